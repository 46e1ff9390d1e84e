// Package storetest holds the checks that every durable store runs beyond
// the conformance suite, which cannot reach them: key expiry and the sweep
// with an injected clock.
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// Clock is a clock the test moves by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Sweeping is a ledger with an explicit sweep of expired keys.
type Sweeping interface {
	bank.Ledger
	Sweep(ctx context.Context) (int64, error)
}

// KeyExpiry checks expiry and the sweep on a store made by open, which
// must seed at least 2 accounts, use now as its clock, keep keys for one
// hour and not sweep by itself.
func KeyExpiry(t *testing.T, open func(t *testing.T, now func() time.Time) Sweeping) {
	clock := NewClock(time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC))
	s := open(t, clock.Now)
	ctx := context.Background()
	req := bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 100, IdempotencyKey: "expiring"}
	first, err := s.Deposit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(59 * time.Minute)
	other := req
	other.Amount = 200
	if _, err := s.Deposit(ctx, other); !errors.Is(err, bank.ErrIdempotencyKeyReuse) {
		t.Fatalf("before expiry, other request: %v, want IdempotencyKeyReuse", err)
	}
	if r, err := s.Deposit(ctx, req); err != nil || !r.Replayed || r.TransactionID != first.TransactionID {
		t.Fatalf("before expiry, replay = %+v, %v", r, err)
	}
	clock.Add(time.Minute)
	// Expired: the key is free again, even for another amount, and this
	// deposit falls in April.
	second, err := s.Deposit(ctx, other)
	if err != nil || second.Replayed || second.TransactionID == first.TransactionID {
		t.Fatalf("after expiry = %+v, %v; want a fresh deposit", second, err)
	}
	if second.Balance != ledger.SeedBalance(1)+300 {
		t.Fatalf("balance %d, want %d", second.Balance, ledger.SeedBalance(1)+300)
	}
	// Statements split by month, in UTC.
	march, err := s.Statement(ctx, req.Account, "2026-03")
	if err != nil || len(march.Transactions) != 1 || march.Closing != first.Balance {
		t.Fatalf("March = %+v, %v", march, err)
	}
	april, err := s.Statement(ctx, req.Account, "2026-04")
	if err != nil || len(april.Transactions) != 1 || april.Opening != first.Balance || april.Closing != second.Balance {
		t.Fatalf("April = %+v, %v", april, err)
	}
	// The sweep removes expired keys and only those.
	clock.Add(30 * time.Minute)
	if _, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(2), Amount: 1, IdempotencyKey: "fresh"}); err != nil {
		t.Fatal(err)
	}
	clock.Add(31 * time.Minute) // "expiring" (second use) expired, "fresh" not
	n, err := s.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if r, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(2), Amount: 1, IdempotencyKey: "fresh"}); err != nil || !r.Replayed {
		t.Fatalf("fresh key after sweep = %+v, %v; want a replay", r, err)
	}
}

// ClockStepsBack checks ledger.Memory's rule that a transaction is never
// dated before its account's previous one, even when the clock steps
// back; open is as for KeyExpiry.
func ClockStepsBack(t *testing.T, open func(t *testing.T, now func() time.Time) Sweeping) {
	clock := NewClock(time.Date(2026, 5, 1, 0, 30, 0, 0, time.UTC))
	s := open(t, clock.Now)
	ctx := context.Background()
	acc := ledger.SeedAccount(2)
	if _, err := s.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: "before"}); err != nil {
		t.Fatal(err)
	}
	clock.Add(-time.Hour) // back into April
	if _, err := s.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 2, IdempotencyKey: "after"}); err != nil {
		t.Fatal(err)
	}
	may, err := s.Statement(ctx, acc, "2026-05")
	if err != nil || len(may.Transactions) != 2 {
		t.Fatalf("May = %+v, %v; want both transactions", may, err)
	}
	if a, b := may.Transactions[0], may.Transactions[1]; b.Time.Before(a.Time) || a.IdempotencyKey != "before" {
		t.Fatalf("transactions out of time order: %+v", may.Transactions)
	}
	if april, err := s.Statement(ctx, acc, "2026-04"); err != nil || len(april.Transactions) != 0 {
		t.Fatalf("April = %+v, %v; want no transaction", april, err)
	}
	// Another account is dated by the clock.
	if _, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 3, IdempotencyKey: "other"}); err != nil {
		t.Fatal(err)
	}
	if april, err := s.Statement(ctx, ledger.SeedAccount(1), "2026-04"); err != nil || len(april.Transactions) != 1 {
		t.Fatalf("other account's April = %+v, %v; want its transaction", april, err)
	}
}
