package transport

import (
	"context"
	"errors"
	"sync"

	"github.com/igbank/igbank/common/bank"
)

// Lazy returns a Client that dials on its first call, and again on the
// next call after a dial failed. A server that cannot be reached then
// shows as one typed error per call (unavailable, or the caller's
// deadline), which a retry layer above can retry, rather than as one
// failed Dial before any call: how the fault lab reaches a server that
// is not there yet, and how a load keeps going while a replica restarts.
// The dial gets the call's context. Close closes the client dialed, if
// any.
func Lazy(dial func(ctx context.Context) (Client, error)) Client {
	return &lazy{dial: dial}
}

type lazy struct {
	dial func(ctx context.Context) (Client, error)
	mu   sync.Mutex
	c    Client
}

func (l *lazy) get(ctx context.Context) (bank.Bank, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		return l.c, nil
	}
	c, err := l.dial(ctx)
	if err != nil {
		var be *bank.Error
		if !errors.As(err, &be) {
			err = bank.FromContext(ctx, err) // a transport that returned an untyped error
		}
		return nil, err
	}
	l.c = c
	return c, nil
}

func (l *lazy) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	c, err := l.get(ctx)
	if err != nil {
		return 0, err
	}
	return c.Balance(ctx, acc)
}

func (l *lazy) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	c, err := l.get(ctx)
	if err != nil {
		return bank.Statement{}, err
	}
	return c.Statement(ctx, req)
}

func (l *lazy) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	c, err := l.get(ctx)
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	return c.Deposit(ctx, req)
}

// Health implements HealthChecker when the client dialed does; otherwise
// it reports HealthUnknown with an error of code internal.
func (l *lazy) Health(ctx context.Context) (HealthStatus, error) {
	c, err := l.get(ctx)
	if err != nil {
		return HealthUnknown, err
	}
	h, ok := c.(HealthChecker)
	if !ok {
		return HealthUnknown, bank.Errorf(bank.Internal, "the client has no health check")
	}
	return h.Health(ctx)
}

func (l *lazy) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c == nil {
		return nil
	}
	return l.c.Close()
}
