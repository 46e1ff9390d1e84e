package ledger

import (
	"fmt"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// DefaultAccounts is how many accounts a ledger is seeded with unless told
// otherwise.
const DefaultAccounts = 10_000

// DefaultRetention is how long an idempotency key is remembered.
const DefaultRetention = 24 * time.Hour

// SeedAccount returns the number of the i-th seeded account, counting from
// 1: SeedAccount(1) is "000000001".
func SeedAccount(i int) bank.AccountNo {
	return bank.AccountNo(fmt.Sprintf("%09d", i))
}

// SeedBalance returns the opening balance of the i-th seeded account. It is
// deterministic so that tests, demos and benchmarks know it without asking:
// between 100.00 and 99,999.99, spread by a multiplicative hash.
func SeedBalance(i int) bank.Money {
	return bank.Money(10_000 + (uint64(i)*2654435761)%9_990_000)
}

// SeedIndex is the inverse of SeedAccount: it returns i for a well-formed
// account number, whether or not a ledger holds that many accounts.
func SeedIndex(acc bank.AccountNo) (int, bool) {
	if bank.ValidateAccount(acc) != nil {
		return 0, false
	}
	n := 0
	for i := 0; i < len(acc); i++ {
		n = n*10 + int(acc[i]-'0')
	}
	return n, n > 0
}

// SeedMonth gives each of the accounts SeedAccount(1) to SeedAccount(n)
// rows deposits dated in month, spread evenly from its first instant to
// its last (or to now, for the current month), so that a statement of
// that month carries rows transactions: the load generator's payload
// sizes. The deposits have no idempotency keys to remember (each
// transaction names a key of its own, "seed-<account>-<row>", as a
// client's would), and the amounts vary, so that every encoding pays for
// numbers of realistic widths. An account must have no transaction after
// the month's start yet. It is not safe to call while the ledger serves.
func (m *Memory) SeedMonth(month bank.Month, n, rows int) error {
	start, end, err := month.Range()
	if err != nil {
		return err
	}
	if now := m.now().UTC(); now.Before(end) {
		end = now
	}
	if !end.After(start) {
		return fmt.Errorf("seed month %s: the month has not begun", month)
	}
	if n < 0 || n > len(m.accounts) || rows < 0 {
		return fmt.Errorf("seed month %s: %d accounts of %d rows: out of range", month, n, rows)
	}
	step := end.Sub(start) / time.Duration(rows+1)
	for i := range n {
		a := &m.accounts[i]
		if k := len(a.txs); k > 0 && !a.txs[k-1].Time.Before(start) {
			return fmt.Errorf("seed month %s: account %s has transactions in it already", month, SeedAccount(i+1))
		}
		balance := bank.Money(a.balance.Load())
		txs := make([]bank.Transaction, 0, len(a.txs)+rows)
		txs = append(txs, a.txs...)
		for r := range rows {
			amount := bank.Money(1 + (uint64(i+1)*2654435761+uint64(r)*40503)%99_999)
			if balance, err = bank.AddBalance(balance, amount); err != nil {
				return err
			}
			txs = append(txs, bank.Transaction{
				ID:             m.lastID.Add(1),
				Time:           start.Add(step * time.Duration(r+1)),
				Amount:         amount,
				BalanceAfter:   balance,
				IdempotencyKey: fmt.Sprintf("seed-%d-%d", i+1, r+1),
			})
		}
		a.txs = txs
		a.balance.Store(int64(balance))
	}
	return nil
}
