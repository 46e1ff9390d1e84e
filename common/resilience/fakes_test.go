package resilience

import (
	"context"
	"sync"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// fakeClock is a virtual clock: Sleep returns at once and moves time on.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

// newFakeClock starts an hour ahead of the real time, so that a context
// deadline set from it never passes in real time while a test runs.
func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().Add(time.Hour)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// fixedRand returns the same point of every range: frac 0 is the lowest
// value, 1 the highest.
type fixedRand float64

func (f fixedRand) Int64N(n int64) int64 {
	v := int64(float64(f) * float64(n))
	if v >= n {
		v = n - 1
	}
	return v
}

// attempt is what the fake bank saw of one attempt.
type attempt struct {
	op       bank.Op
	start    time.Time
	deadline time.Time
	key      string
}

// flaky is a fault-injecting bank.Bank. fail decides the outcome of the
// n-th attempt (from 1); cost is the virtual time each attempt takes. An
// attempt whose context deadline passes during that time fails with
// DeadlineExceeded, as a transport would report it.
type flaky struct {
	clock *fakeClock
	cost  time.Duration
	fail  func(n int) error

	mu       sync.Mutex
	attempts []attempt
}

func (f *flaky) call(ctx context.Context, op bank.Op, key string) error {
	f.mu.Lock()
	dl, _ := ctx.Deadline()
	a := attempt{op: op, start: f.clock.Now(), deadline: dl, key: key}
	f.attempts = append(f.attempts, a)
	n := len(f.attempts)
	f.mu.Unlock()
	if f.cost > 0 {
		if !dl.IsZero() && !a.start.Add(f.cost).Before(dl) {
			f.clock.advance(dl.Sub(a.start))
			return bank.Errorf(bank.DeadlineExceeded, "attempt ran out of time")
		}
		f.clock.advance(f.cost)
	}
	if f.fail != nil {
		return f.fail(n)
	}
	return nil
}

func (f *flaky) seen() []attempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]attempt(nil), f.attempts...)
}

func (f *flaky) Balance(ctx context.Context, _ bank.AccountNo) (bank.Money, error) {
	if err := f.call(ctx, bank.OpBalance, ""); err != nil {
		return 0, err
	}
	return 100, nil
}

func (f *flaky) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	if err := f.call(ctx, bank.OpStatement, ""); err != nil {
		return bank.Statement{}, err
	}
	return bank.Statement{Account: req.Account, Month: req.Month}, nil
}

func (f *flaky) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if err := f.call(ctx, bank.OpDeposit, req.IdempotencyKey); err != nil {
		return bank.DepositReceipt{}, err
	}
	return bank.DepositReceipt{TransactionID: 1, Balance: req.Amount}, nil
}

var errDown = bank.Errorf(bank.Unavailable, "connection refused")

func always(err error) func(int) error { return func(int) error { return err } }

// failFirst fails the first k attempts with err.
func failFirst(k int, err error) func(int) error {
	return func(n int) error {
		if n <= k {
			return err
		}
		return nil
	}
}
