package transport_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

type closer struct {
	bank.Bank
	closed int
}

func (c *closer) Close() error { c.closed++; return nil }

// TestLazy: a failed dial is a typed error of that call, the next call
// dials again, a dialed client is kept, and Close closes it.
func TestLazy(t *testing.T) {
	ctx := context.Background()
	svc := &closer{Bank: bank.NewService(ledger.NewMemory(2))}
	dials := 0
	up := false
	l := transport.Lazy(func(context.Context) (transport.Client, error) {
		dials++
		if !up {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		}
		return svc, nil
	})
	if err := l.Close(); err != nil {
		t.Fatalf("Close before any dial: %v", err)
	}
	if _, err := l.Balance(ctx, ledger.SeedAccount(1)); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Balance while the dial fails: %v, want unavailable", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Deposit(canceled, bank.DepositRequest{}); !errors.Is(err, bank.ErrCanceled) {
		t.Fatalf("Deposit with a canceled context while the dial fails: %v, want canceled", err)
	}
	up = true
	if b, err := l.Balance(ctx, ledger.SeedAccount(1)); err != nil || b != ledger.SeedBalance(1) {
		t.Fatalf("Balance once the dial works: %v, %v", b, err)
	}
	if _, err := l.Statement(ctx, bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"}); err != nil {
		t.Fatal(err)
	}
	if dials != 3 {
		t.Errorf("%d dials, want 3 (two failed, then one kept)", dials)
	}
	if err := l.Close(); err != nil || svc.closed != 1 {
		t.Errorf("Close: %v, closed %d times", err, svc.closed)
	}
}
