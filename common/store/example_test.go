package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store"
)

// A -store spec opens a ledger; a durable one keeps what was applied when
// it is opened again.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "igbank-example-")
	defer os.RemoveAll(dir)
	spec := "sqlite:" + filepath.Join(dir, "bank.db")
	ctx := context.Background()

	l, c, err := store.Open(ctx, spec, 10)
	if err != nil {
		panic(err)
	}
	b := bank.NewService(l)
	b.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(7), Amount: 500, IdempotencyKey: "example"})
	c.Close()

	l, c, _ = store.Open(ctx, spec, 10)
	defer c.Close()
	m, _ := bank.NewService(l).Balance(ctx, ledger.SeedAccount(7))
	fmt.Println(m - ledger.SeedBalance(7))
	// Output: 5.00
}
