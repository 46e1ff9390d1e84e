//go:build workshop || solution

package deadline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/workshop/internal/lab"
)

// TestGrade calls a real raw-sockets server that answers unavailable, and
// times the calls. The margins are wide (100ms) so that a busy machine
// does not fail a good answer.
func TestGrade(t *testing.T) {
	unavailable := bank.Errorf(bank.Unavailable, "the server is overloaded")
	s := lab.Start(t, lab.Decorate(lab.Script(unavailable, unavailable)))
	acc := ledger.SeedAccount(1)
	const margin = 100 * time.Millisecond
	s.Failing.Set(unavailable)

	// 1. A pause longer than the time left.
	c := NewClient(s.Dial(t), time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Balance(ctx, acc)
	took := time.Since(start)
	switch {
	case took > 200*time.Millisecond+margin:
		t.Fatalf("your call returned after %s, though its caller allowed 200ms: you slept past the caller's deadline", took.Round(time.Millisecond))
	case took > margin:
		t.Fatalf("your call waited %s for a retry that could not start before the deadline (1s pause, 200ms left): when the pause would end after the deadline, give up at once", took.Round(time.Millisecond))
	case !errors.Is(err, bank.ErrUnavailable) && !errors.Is(err, bank.ErrDeadlineExceeded):
		t.Fatalf("your call ended with %v; want the last failure (unavailable) or deadline_exceeded", err)
	}

	// 2. The caller cancels during a pause.
	c = NewClient(s.Dial(t), 500*time.Millisecond)
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	c.Balance(ctx, acc)
	if after := time.Since(start) - 50*time.Millisecond; after > margin {
		t.Fatalf("your call returned %s after its caller canceled it: stop waiting as soon as the context ends (select on ctx.Done())", after.Round(time.Millisecond))
	}

	// 3. A retry that has time is still made.
	s.Failing.Set(nil) // the next two calls are answered unavailable, then the server recovers
	c = NewClient(s.Dial(t), 20*time.Millisecond)
	before := s.Calls.N()
	if _, err := c.Balance(lab.Context(t, 2*time.Second), acc); err != nil {
		t.Fatalf("a call that failed twice with 20ms pauses and 2s to spare ended with %q after %d attempts: a retry that can start before the deadline must be made", err, s.Calls.N()-before)
	}
}
