package audit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// A client's view of its deposits is checked against the ledger read
// back: here a deposit whose answer was lost (its outcome is unknown to
// the client) was in fact applied, which the audit allows, once.
func ExampleCheck() {
	ctx := context.Background()
	start := time.Now()
	b := bank.NewService(ledger.NewMemory(4))
	r, _ := b.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 1000, IdempotencyKey: "k-0"})
	b.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(2), Amount: 1001, IdempotencyKey: "k-1"})
	deposits := []audit.Deposit{
		{Key: "k-0", Account: ledger.SeedAccount(1), Amount: 1000, Outcome: audit.Acknowledged, Receipt: r},
		{Key: "k-1", Account: ledger.SeedAccount(2), Amount: 1001, Outcome: audit.Unknown, Code: bank.Unavailable},
	}
	res, err := audit.Check(ctx, b, audit.Months(start), deposits, false)
	fmt.Println(res.OK, res.Applied, res.Duplicated, res.UnknownApplied, err)
	// Output: true 2 0 1 <nil>
}
