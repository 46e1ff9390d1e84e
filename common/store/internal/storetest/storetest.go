// Package storetest holds the checks that every durable store runs beyond
// the conformance suite, which cannot reach them: key expiry and the sweep
// with an injected clock.
package storetest

import (
	"context"
	"errors"
	"fmt"
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
	march, err := wholeMonth(ctx, s, req.Account, "2026-03")
	if err != nil || len(march.Transactions) != 1 || march.Closing != first.Balance {
		t.Fatalf("March = %+v, %v", march, err)
	}
	april, err := wholeMonth(ctx, s, req.Account, "2026-04")
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
	may, err := wholeMonth(ctx, s, acc, "2026-05")
	if err != nil || len(may.Transactions) != 2 {
		t.Fatalf("May = %+v, %v; want both transactions", may, err)
	}
	if a, b := may.Transactions[0], may.Transactions[1]; b.Time.Before(a.Time) || a.IdempotencyKey != "before" {
		t.Fatalf("transactions out of time order: %+v", may.Transactions)
	}
	if april, err := wholeMonth(ctx, s, acc, "2026-04"); err != nil || len(april.Transactions) != 0 {
		t.Fatalf("April = %+v, %v; want no transaction", april, err)
	}
	// Another account is dated by the clock.
	if _, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 3, IdempotencyKey: "other"}); err != nil {
		t.Fatal(err)
	}
	if april, err := wholeMonth(ctx, s, ledger.SeedAccount(1), "2026-04"); err != nil || len(april.Transactions) != 1 {
		t.Fatalf("other account's April = %+v, %v; want its transaction", april, err)
	}
}

// wholeMonth reads a month of at most bank.MaxPageSize transactions from
// the ledger in one query.
func wholeMonth(ctx context.Context, s bank.Ledger, acc bank.AccountNo, m bank.Month) (bank.Statement, error) {
	return s.Statement(ctx, bank.StatementQuery{Account: acc, Month: m, Limit: bank.MaxPageSize})
}

// Paging checks the store's keyset pages through the reference Service:
// transactions that share one timestamp (the clock stands still) are
// ordered by ID and neither repeated nor skipped across pages, the
// balances are the month's on every page, and a cursor past the end gives
// an empty last page. open is as for KeyExpiry.
func Paging(t *testing.T, open func(t *testing.T, now func() time.Time) Sweeping) {
	clock := NewClock(time.Date(2026, 6, 30, 23, 59, 0, 0, time.UTC))
	s := open(t, clock.Now)
	b := bank.NewService(s)
	ctx := context.Background()
	acc := ledger.SeedAccount(2)
	deposit := func(n int, prefix string) {
		for i := range n {
			if _, err := s.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: bank.Money(i + 1), IdempotencyKey: fmt.Sprintf("%s-%d", prefix, i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	deposit(2, "june")
	clock.Add(2 * time.Minute) // July
	deposit(5, "same-instant")
	clock.Add(time.Second)
	deposit(4, "later")
	clock.Add(time.Hour * 24 * 31) // August
	deposit(1, "august")

	whole, err := wholeMonth(ctx, s, acc, "2026-07")
	if err != nil || len(whole.Transactions) != 9 {
		t.Fatalf("July in one query = %+v, %v; want 9 transactions", whole, err)
	}
	want := bank.Statement{Account: acc, Month: "2026-07", Opening: ledger.SeedBalance(2) + 3, Closing: ledger.SeedBalance(2) + 3 + 15 + 10}
	if whole.Opening != want.Opening || whole.Closing != want.Closing {
		t.Fatalf("July = opening %d closing %d, want %d %d", whole.Opening, whole.Closing, want.Opening, want.Closing)
	}
	for _, size := range []int{1, 2, 3, 9, 10} {
		req := bank.StatementRequest{Account: acc, Month: "2026-07", PageSize: size}
		var got []bank.Transaction
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("page size %d: more than 20 pages", size)
			}
			p, err := b.Statement(ctx, req)
			if err != nil {
				t.Fatalf("page size %d, page %d: %v", size, pages, err)
			}
			if p.Opening != want.Opening || p.Closing != want.Closing || len(p.Transactions) > size {
				t.Fatalf("page size %d, page %d = %+v", size, pages, p)
			}
			got = append(got, p.Transactions...)
			if p.NextPageToken == "" {
				break
			}
			req.PageToken = p.NextPageToken
		}
		if len(got) != len(whole.Transactions) {
			t.Fatalf("page size %d: %d transactions, want %d", size, len(got), len(whole.Transactions))
		}
		for i := range got {
			if got[i].ID != whole.Transactions[i].ID || !got[i].Time.Equal(whole.Transactions[i].Time) {
				t.Fatalf("page size %d: transaction %d = %+v, want %+v", size, i, got[i], whole.Transactions[i])
			}
			if i > 0 && !(bank.Cursor{Time: got[i-1].Time, ID: got[i-1].ID}).Before(got[i]) {
				t.Fatalf("page size %d: transactions %d and %d out of (time, id) order", size, i-1, i)
			}
		}
	}
	// A cursor before the month (a token forged, well formed): the month
	// from its first transaction, nothing of June.
	early := bank.EncodePageToken(bank.PageToken{Account: acc, Month: "2026-07", After: bank.Cursor{Time: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), ID: 1 << 62}})
	if p, err := b.Statement(ctx, bank.StatementRequest{Account: acc, Month: "2026-07", PageSize: 2, PageToken: early}); err != nil || len(p.Transactions) != 2 || p.Transactions[0].ID != whole.Transactions[0].ID {
		t.Fatalf("page after a cursor before the month = %+v, %v; want the month's first two", p, err)
	}
	// A cursor past the end of the month: an empty last page, with the
	// month's balances.
	last := whole.Transactions[len(whole.Transactions)-1]
	tok := bank.EncodePageToken(bank.PageToken{Account: acc, Month: "2026-07", After: bank.Cursor{Time: last.Time.Add(time.Hour), ID: last.ID}})
	p, err := b.Statement(ctx, bank.StatementRequest{Account: acc, Month: "2026-07", PageToken: tok})
	if err != nil || len(p.Transactions) != 0 || p.NextPageToken != "" || p.Opening != want.Opening || p.Closing != want.Closing {
		t.Fatalf("page past the end = %+v, %v; want an empty last page", p, err)
	}
}
