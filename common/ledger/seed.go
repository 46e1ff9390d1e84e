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
