package shed_test

import (
	"context"
	"fmt"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/shed"
)

// A server puts its bank behind a limit of calls in progress and a short
// queue; what cannot be served in time is refused at once as unavailable,
// with a hint of when to try again.
func ExampleNew() {
	b := shed.New(bank.NewService(ledger.NewMemory(10)), shed.Config{MaxCalls: 64, Queue: 128})
	m, err := b.Balance(context.Background(), ledger.SeedAccount(1))
	fmt.Println(m, err)

	// A call whose deadline has already passed never runs.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err = b.Balance(ctx, ledger.SeedAccount(1))
	fmt.Println(bank.CodeOf(err))
	// Output:
	// 70957.61 <nil>
	// deadline_exceeded
}
