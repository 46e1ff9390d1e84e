package banktest

import (
	"context"
	"sync"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// Slow is a server-side decorator that holds every call for Delay (or until
// the call's context ends, or Release) before passing it on.
type Slow struct {
	bank.Bank
	Delay time.Duration

	once    sync.Once
	release chan struct{}
	mu      sync.Mutex
}

func (s *Slow) wait(ctx context.Context) error {
	s.mu.Lock()
	if s.release == nil {
		s.release = make(chan struct{})
	}
	rel := s.release
	s.mu.Unlock()
	t := time.NewTimer(s.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-rel:
		return bank.Errorf(bank.Unavailable, "released")
	case <-ctx.Done():
		return bank.FromContext(ctx, ctx.Err())
	}
}

// Release ends every wait at once, so a test's server can shut down.
func (s *Slow) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release == nil {
		s.release = make(chan struct{})
	}
	s.once.Do(func() { close(s.release) })
}

// Balance implements bank.Bank.
func (s *Slow) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if err := s.wait(ctx); err != nil {
		return 0, err
	}
	return s.Bank.Balance(ctx, acc)
}

// Statement implements bank.Bank.
func (s *Slow) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	if err := s.wait(ctx); err != nil {
		return bank.Statement{}, err
	}
	return s.Bank.Statement(ctx, req)
}

// Deposit implements bank.Bank.
func (s *Slow) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if err := s.wait(ctx); err != nil {
		return bank.DepositReceipt{}, err
	}
	return s.Bank.Deposit(ctx, req)
}

// Failing is a server-side decorator that answers every call with the error
// last given to Set, or passes calls on while it is nil.
type Failing struct {
	bank.Bank
	mu  sync.Mutex
	err error
}

// Set makes every following call fail with err (nil: pass calls on).
func (f *Failing) Set(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *Failing) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Balance implements bank.Bank.
func (f *Failing) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if err := f.get(); err != nil {
		return 0, err
	}
	return f.Bank.Balance(ctx, acc)
}

// Statement implements bank.Bank.
func (f *Failing) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	if err := f.get(); err != nil {
		return bank.Statement{}, err
	}
	return f.Bank.Statement(ctx, req)
}

// Deposit implements bank.Bank.
func (f *Failing) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if err := f.get(); err != nil {
		return bank.DepositReceipt{}, err
	}
	return f.Bank.Deposit(ctx, req)
}
