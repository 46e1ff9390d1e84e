package bank_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// Errors are typed and carry one code of a fixed set, whichever transport
// brought them: compare with errors.Is against the sentinels, or take the
// code with CodeOf.
func ExampleError() {
	b := bank.NewService(ledger.NewMemory(10))
	_, err := b.Balance(context.Background(), "000000999")
	fmt.Println(errors.Is(err, bank.ErrNotFound), bank.CodeOf(err), bank.CodeOf(err).Retryable())
	fmt.Println(err)

	// A transport's client rebuilds the server's error from the code and
	// the text that travelled (bank.Detail).
	wire := bank.FromCode(bank.CodeOf(err), bank.Detail(err))
	fmt.Println(errors.Is(wire, bank.ErrNotFound), wire.Error() == err.Error())
	// Output:
	// true not_found false
	// not_found: account 000000999 does not exist
	// true true
}

// Money is an int64 number of cents; it becomes "220.77" only when
// printed.
func ExampleMoney_String() {
	fmt.Println(bank.Money(22077), bank.Money(5), bank.Money(-150))
	// Output: 220.77 0.05 -1.50
}

// A statement comes one page at a time: the next page is asked for with
// the token of the last; ReadStatement does that loop.
func ExampleReadStatement() {
	b := bank.NewService(ledger.NewMemory(10))
	ctx := context.Background()
	acc := ledger.SeedAccount(1)
	for k := range 5 {
		b.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 100, IdempotencyKey: fmt.Sprint("example-", k)})
	}
	month := bank.MonthOf(time.Now())

	page, _ := b.Statement(ctx, bank.StatementRequest{Account: acc, Month: month, PageSize: 2})
	fmt.Println(len(page.Transactions), page.NextPageToken != "")
	page, _ = b.Statement(ctx, bank.StatementRequest{Account: acc, Month: month, PageSize: 2, PageToken: page.NextPageToken})
	fmt.Println(len(page.Transactions), page.NextPageToken != "")

	all, _ := bank.ReadStatement(ctx, b, bank.StatementRequest{Account: acc, Month: month, PageSize: 2})
	fmt.Println(len(all.Transactions), all.Closing-all.Opening)
	// Output:
	// 2 true
	// 2 true
	// 5 5.00
}
