//go:build workshop || solution

package breaker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/workshop/internal/lab"
	"github.com/sony/gobreaker/v2"
)

// TestGrade drives a breaker that opens after 3 failures in a row through
// a real raw-sockets server: first answers that are errors, then a server
// that resets every connection, then one too slow for its callers.
func TestGrade(t *testing.T) {
	var down atomic.Bool
	s := lab.Start(t, lab.WithPlan(func(fault.Call) fault.Kind {
		if down.Load() {
			return fault.LoseRequest
		}
		return fault.None
	}))
	c := NewClient(s.Dial(t), 3, time.Minute)
	ctx := func() context.Context { return lab.Context(t, 5*time.Second) }
	acc := ledger.SeedAccount(1)

	// 1. Answers: not_found, and a caller who cancels.
	for i := range 6 {
		_, err := c.Balance(ctx(), ledger.SeedAccount(lab.Accounts+1+i))
		if errors.Is(err, gobreaker.ErrOpenState) {
			t.Fatalf("your breaker opened after %d not_found answers: a server that answers is up; business errors are not failures", i)
		}
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 6 {
		_, err := c.Balance(canceled, acc)
		if errors.Is(err, gobreaker.ErrOpenState) {
			t.Fatalf("your breaker opened after %d calls that their callers had canceled: a caller giving up says nothing about the server", i)
		}
	}
	if _, err := c.Balance(ctx(), acc); err != nil {
		t.Fatalf("a balance of a healthy server failed with %q", err)
	}

	// 2. The server resets every connection: unavailable.
	down.Store(true)
	before := s.Calls.N()
	for range 6 {
		c.Balance(ctx(), acc)
	}
	if n := s.Calls.N() - before; n > 3 {
		t.Fatalf("after 3 unavailable failures in a row your breaker let %d more calls through to a server that was down: availability failures must count", n-3)
	}
	if c.State() != gobreaker.StateOpen {
		t.Fatalf("after 6 unavailable failures in a row your breaker is %s, want open", c.State())
	}

	// 3. A server too slow for its callers: deadline_exceeded.
	slow := &banktest.Slow{Delay: 5 * time.Second}
	w := lab.Start(t, lab.Decorate(func(b bank.Bank) bank.Bank { slow.Bank = b; return slow }))
	t.Cleanup(slow.Release)
	c = NewClient(w.Dial(t), 3, time.Minute)
	for range 5 {
		short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		c.Balance(short, acc)
		cancel()
	}
	if c.State() != gobreaker.StateOpen {
		t.Fatalf("after 5 calls in a row found no answer within their 20ms deadline, your breaker is %s, want open: deadline_exceeded says the server is too slow, or gone", c.State())
	}
}
