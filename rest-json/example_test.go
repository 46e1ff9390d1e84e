package restbank_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	restbank "github.com/igbank/igbank/rest-json"
)

// A server on loopback and a client of it: a deposit, its replay, and an
// error that comes back typed.
func Example() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := restbank.NewServer(bank.NewService(ledger.NewMemory(100)))
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := restbank.Dial(ctx, l.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()

	req := bank.DepositRequest{Account: "000000042", Amount: 1250, IdempotencyKey: "example-1"}
	r, err := c.Deposit(ctx, req)
	fmt.Println(r.Balance-ledger.SeedBalance(42), r.Replayed, err)
	r, err = c.Deposit(ctx, req)
	fmt.Println(r.Balance-ledger.SeedBalance(42), r.Replayed, err)
	_, err = c.Balance(ctx, "000000999")
	fmt.Println(errors.Is(err, bank.ErrNotFound), err)
	// Output:
	// 12.50 false <nil>
	// 12.50 true <nil>
	// true not_found: account 000000999 does not exist
}
