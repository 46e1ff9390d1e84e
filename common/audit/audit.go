// Package audit is the exactly-once check of the partial-failure lab: it
// reads a ledger back and compares it, Jepsen-style, with what the clients
// that made deposits learned about each one.
package audit

import (
	"context"
	"fmt"
	"sort"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// Outcome is what a client learned about one logical deposit.
type Outcome uint8

const (
	// Acknowledged: the client got a receipt.
	Acknowledged Outcome = iota
	// Failed: the call ended with an error that says the deposit was not
	// applied (a business error the server answered: not found, invalid
	// argument, key reused, ...).
	Failed
	// Unknown: the call ended without an answer that says either way
	// (unavailable, deadline exceeded, canceled, internal): the deposit may
	// or may not have been applied.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Acknowledged:
		return "acknowledged"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// OutcomeOf classifies the result of a deposit call.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return Acknowledged
	}
	switch bank.CodeOf(err) {
	case bank.NotFound, bank.InvalidArgument, bank.IdempotencyKeyReuse, bank.Unauthenticated, bank.PermissionDenied:
		return Failed
	}
	return Unknown
}

// Deposit is one logical deposit a client attempted, with its own
// idempotency key, and what it learned.
type Deposit struct {
	Key     string
	Account bank.AccountNo
	Amount  bank.Money
	Outcome Outcome
	Code    bank.Code           // the final error's code (OK when acknowledged)
	Receipt bank.DepositReceipt // when acknowledged
}

// Result is what the audit found. Exactly-once held when OK is true.
type Result struct {
	Attempted    int `json:"attempted"`
	Acknowledged int `json:"acknowledged"`
	Failed       int `json:"failed"`
	Unknown      int `json:"unknown"`
	// Applied counts the attempted deposits (distinct keys) the ledger holds.
	Applied int `json:"applied"`
	// UnknownApplied counts the unknown-outcome deposits that were applied
	// (once): allowed, and the reason keys exist.
	UnknownApplied int `json:"unknown_applied"`
	// Replayed counts receipts the server marked as replays of a deposit
	// it had already applied: evidence of a lost response that a retry
	// with the same key recovered.
	Replayed int `json:"replayed"`
	// The violations.
	Lost          int      `json:"lost"`           // acknowledged but not in the ledger
	Duplicated    int      `json:"duplicated"`     // keys applied more than once
	Phantom       int      `json:"phantom"`        // transactions no client sent
	Mismatched    int      `json:"mismatched"`     // receipt, amount or account disagrees with the ledger
	FailedApplied int      `json:"failed_applied"` // failed with a definite error, yet applied
	BadBalances   int      `json:"bad_balances"`   // accounts whose closing balance is not opening + distinct deposits
	OK            bool     `json:"ok"`
	Problems      []string `json:"problems,omitempty"` // the first few violations, described
	// FencingTokens lists, for the keys a caller looked up in the store,
	// the fencing token of each of the key's transactions (the claim
	// that applied it, package postgres): two tokens under one key are a
	// stale holder's write that no fence stopped. Check cannot fill it —
	// the tokens stay server-side, no statement carries them — so the
	// caller reads them from the database (NoteFencingToken).
	FencingTokens map[string][]int64 `json:"fencing_tokens,omitempty"`
	// Applications counts, for each attempted key, the transactions the
	// ledger holds for it: 0, 1, or more for a duplicate. For marking a
	// run's timeline; not saved.
	Applications map[string]int `json:"-"`
}

// NoteFencingToken records that one of key's transactions was applied
// under the fencing token token.
func (r *Result) NoteFencingToken(key string, token int64) {
	if r.FencingTokens == nil {
		r.FencingTokens = map[string][]int64{}
	}
	r.FencingTokens[key] = append(r.FencingTokens[key], token)
}

// maxProblems bounds Result.Problems.
const maxProblems = 10

func (r *Result) problem(format string, args ...any) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// Check reads the ledger back through b (a fresh client, or the server's
// bank in process) and checks the deposits the clients attempted,
// Jepsen-style: every acknowledged deposit's key appears exactly once, with
// its receipt's transaction id; no key appears twice; no transaction
// appears that no client sent; each touched account's closing balance is its
// opening balance plus the distinct applied deposits; unknown-outcome
// deposits appear at most once and failed ones not at all.
//
// The statements read are those of months (the months the deposits were
// made in); the accounts must have had no other deposits in them, and
// opening balances are ledger.SeedBalance, so b's ledger must be one seeded
// fresh for the run.
//
// byAmount is for a server that ignores keys (bank.IgnoreKeys, which
// stores a key of its own): a transaction whose key no client sent is then
// attributed to the deposit of the same account and amount, so give every
// deposit an amount of its own.
func Check(ctx context.Context, b bank.Bank, months []bank.Month, deposits []Deposit, byAmount bool) (Result, error) {
	r := Result{Attempted: len(deposits)}
	byKey := make(map[string]*Deposit, len(deposits))
	touched := map[bank.AccountNo]bool{}
	type accAmount struct {
		acc    bank.AccountNo
		amount bank.Money
	}
	byAmt := map[accAmount]*Deposit{}
	for i := range deposits {
		d := &deposits[i]
		switch d.Outcome {
		case Acknowledged:
			r.Acknowledged++
			if d.Receipt.Replayed {
				r.Replayed++
			}
		case Failed:
			r.Failed++
		default:
			r.Unknown++
		}
		if _, dup := byKey[d.Key]; dup {
			return r, fmt.Errorf("audit: key %q attempted twice; every logical deposit needs its own key", d.Key)
		}
		byKey[d.Key] = d
		byAmt[accAmount{d.Account, d.Amount}] = d
		touched[d.Account] = true
	}
	accounts := make([]bank.AccountNo, 0, len(touched))
	for a := range touched {
		accounts = append(accounts, a)
	}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i] < accounts[j] })

	seen := map[string][]bank.Transaction{}
	for _, acc := range accounts {
		idx, ok := ledger.SeedIndex(acc)
		if !ok {
			return r, fmt.Errorf("audit: %s is not a seeded account", acc)
		}
		opening := ledger.SeedBalance(idx)
		balance := opening
		var distinct bank.Money
		for _, m := range months {
			st, err := bank.ReadStatement(ctx, b, bank.StatementRequest{Account: acc, Month: m, PageSize: bank.MaxPageSize})
			if err != nil {
				return r, fmt.Errorf("audit: statement of %s for %s: %w", acc, m, err)
			}
			for _, tx := range st.Transactions {
				d, sent := byKey[tx.IdempotencyKey]
				if !sent && byAmount {
					d, sent = byAmt[accAmount{acc, tx.Amount}]
				}
				if !sent {
					r.Phantom++
					r.problem("transaction %d on %s (%s, key %q) was sent by no client", tx.ID, acc, tx.Amount, tx.IdempotencyKey)
					continue
				}
				if d.Account != acc || d.Amount != tx.Amount {
					r.Mismatched++
					r.problem("key %q: sent %s to %s, ledger has %s on %s", d.Key, d.Amount, d.Account, tx.Amount, acc)
				}
				if len(seen[d.Key]) == 0 {
					distinct += tx.Amount
				}
				seen[d.Key] = append(seen[d.Key], tx)
			}
			balance = st.Closing
		}
		if want := opening + distinct; balance != want {
			r.BadBalances++
			r.problem("%s: closing balance %s, want opening %s + distinct deposits %s = %s", acc, balance, opening, distinct, want)
		}
	}

	r.Applications = make(map[string]int, len(byKey))
	for key, d := range byKey {
		txs := seen[key]
		r.Applications[key] = len(txs)
		if len(txs) > 0 {
			r.Applied++
		}
		if len(txs) > 1 {
			r.Duplicated++
			r.problem("key %q (%s, %s) applied %d times", key, d.Account, d.Outcome, len(txs))
		}
		switch d.Outcome {
		case Acknowledged:
			if len(txs) == 0 {
				r.Lost++
				r.problem("key %q acknowledged (transaction %d) but not in the ledger", key, d.Receipt.TransactionID)
			} else if !hasTx(txs, d.Receipt.TransactionID) {
				r.Mismatched++
				r.problem("key %q: receipt names transaction %d, ledger has %d", key, d.Receipt.TransactionID, txs[0].ID)
			}
		case Failed:
			if len(txs) > 0 {
				r.FailedApplied++
				r.problem("key %q failed with %s but was applied", key, d.Code)
			}
		default:
			if len(txs) > 0 {
				r.UnknownApplied++
			}
		}
	}
	r.OK = r.Lost == 0 && r.Duplicated == 0 && r.Phantom == 0 && r.Mismatched == 0 && r.FailedApplied == 0 && r.BadBalances == 0
	return r, nil
}

func hasTx(txs []bank.Transaction, id int64) bool {
	for _, tx := range txs {
		if tx.ID == id {
			return true
		}
	}
	return false
}
