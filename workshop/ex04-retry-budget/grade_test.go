//go:build workshop || solution

package budget

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/workshop/internal/lab"
)

// TestGrade drives a client with a budget of 10 tokens (0.1 back per
// answered call) through a real raw-sockets server: a glitch, an outage,
// the recovery, a glitch again.
func TestGrade(t *testing.T) {
	var lose atomic.Int32 // the next requests to lose
	s := lab.Start(t, lab.WithPlan(func(fault.Call) fault.Kind {
		if lose.Add(-1) >= 0 {
			return fault.LoseRequest
		}
		lose.Store(0)
		return fault.None
	}))
	b := NewBudget(10, 0.1)
	c := NewClient(s.Dial(t), b)
	ctx := func() context.Context { return lab.Context(t, 5*time.Second) }
	acc := ledger.SeedAccount(1)

	// 1. A glitch: one lost request, retried.
	lose.Store(1)
	if _, err := c.Balance(ctx(), acc); err != nil {
		t.Fatalf("one lost request on a client whose budget is full was not retried (%q): a full budget must allow retries", err)
	}

	// 2. An outage: the server answers every call unavailable.
	s.Failing.Set(bank.Errorf(bank.Unavailable, "the server is down"))
	const calls = 100
	before := s.Calls.N()
	for range calls {
		c.Balance(ctx(), acc)
	}
	if n := s.Calls.N() - before; n > calls+10 {
		t.Fatalf("during the outage your client sent %d attempts for %d calls: retries multiplied the load on a server that was down by %.1f×; once half the budget is spent, each call must make one attempt", n, calls, float64(n)/calls)
	}
	if tk := b.Tokens(); tk < 0 {
		t.Fatalf("after the outage your budget holds %.1f tokens: it must never go below 0, or it takes too long to refill", tk)
	}

	// 3. The recovery: 100 answered calls refill the bucket.
	s.Failing.Set(nil)
	for range calls {
		if _, err := c.Balance(ctx(), acc); err != nil {
			t.Fatalf("a balance after the recovery failed: %v", err)
		}
	}
	if tk := b.Tokens(); tk > 10.000001 {
		t.Fatalf("after 100 answered calls your budget holds %.1f tokens, more than its 10: cap it, or the next outage gets %.0f retries for free", tk, tk-10)
	}
	lose.Store(1)
	before = s.Calls.N()
	if _, err := c.Balance(ctx(), acc); err != nil {
		t.Fatalf("after the server recovered and answered 100 calls, a single lost request was not retried (%d attempt): the budget must refill by 0.1 per answered call", s.Calls.N()-before)
	}
}
