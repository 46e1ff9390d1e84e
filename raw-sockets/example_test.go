package rawbank_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

func Example() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := rawbank.NewServer(bank.NewService(ledger.NewMemory(100)))
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := rawbank.Dial(ctx, l.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()

	m, _ := c.Balance(ctx, "000000001")
	fmt.Println("balance", m)
	r, _ := c.Deposit(ctx, bank.DepositRequest{Account: "000000001", Amount: 1250, IdempotencyKey: "example-1"})
	fmt.Println("after deposit", r.Balance, "replayed", r.Replayed)
	_, err = c.Balance(ctx, "000000999")
	fmt.Println("not found:", errors.Is(err, bank.ErrNotFound))
	// Output:
	// balance 70957.61
	// after deposit 70970.11 replayed false
	// not found: true
}
