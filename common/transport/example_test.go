package transport_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// A client that dials on use: a server that is not there yet is a typed,
// retryable error of the call, not a failed Dial before any call, and the
// next call dials again.
func ExampleLazy() {
	up := false
	c := transport.Lazy(func(ctx context.Context) (transport.Client, error) {
		if !up {
			return nil, bank.Errorf(bank.Unavailable, "connection refused")
		}
		return nopClient{bank.NewService(ledger.NewMemory(3))}, nil
	})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	_, err := c.Balance(ctx, ledger.SeedAccount(1))
	fmt.Println(errors.Is(err, bank.ErrUnavailable), bank.CodeOf(err).Retryable())
	up = true
	m, err := c.Balance(ctx, ledger.SeedAccount(1))
	fmt.Println(m == ledger.SeedBalance(1), err)
	// Output:
	// true true
	// true <nil>
}

// nopClient is a bank.Bank with a Close that does nothing.
type nopClient struct{ bank.Bank }

func (nopClient) Close() error { return nil }
