//go:build workshop || solution

package noretry

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/workshop/internal/lab"
)

// TestGrade calls a real raw-sockets server and counts the calls that
// reached it.
func TestGrade(t *testing.T) {
	var lose atomic.Bool // lose the next request
	s := lab.Start(t, lab.WithPlan(func(fault.Call) fault.Kind {
		if lose.CompareAndSwap(true, false) {
			return fault.LoseRequest
		}
		return fault.None
	}),
		lab.Decorate(lab.Script(nil, nil, nil, nil, bank.Errorf(bank.InFlight, "still being applied"))))
	c := NewClient(s.Dial(t))

	// 1. not_found: an answer.
	before := s.Calls.N()
	_, err := c.Balance(lab.Context(t, 5*time.Second), ledger.SeedAccount(lab.Accounts+1))
	if !errors.Is(err, bank.ErrNotFound) {
		t.Fatalf("the balance of an account that does not exist returned %v, want not_found", err)
	}
	if n := s.Calls.N() - before; n > 1 {
		t.Fatalf("you retried a not_found error %d times; business errors are answers, not failures: asked again, the server says the same", n-1)
	}

	// 2. idempotency_key_reused: an answer too.
	acc := ledger.SeedAccount(1)
	if _, err := c.Deposit(lab.Context(t, 5*time.Second), bank.DepositRequest{Account: acc, Amount: 100, IdempotencyKey: "grader-1"}); err != nil {
		t.Fatalf("a deposit failed: %v", err)
	}
	before = s.Calls.N()
	_, err = c.Deposit(lab.Context(t, 5*time.Second), bank.DepositRequest{Account: acc, Amount: 999, IdempotencyKey: "grader-1"})
	if !errors.Is(err, bank.ErrIdempotencyKeyReuse) {
		t.Fatalf("a deposit that reused a key for another amount returned %v, want idempotency_key_reused", err)
	}
	if n := s.Calls.N() - before; n > 1 {
		t.Fatalf("you retried an idempotency_key_reused error %d times; business errors are answers, not failures: asked again, the server says the same", n-1)
	}

	// 3. A lost request (the connection reset: unavailable) is retried.
	lose.Store(true)
	before = s.Calls.N()
	if _, err := c.Balance(lab.Context(t, 5*time.Second), acc); err != nil {
		t.Fatalf("a balance whose request was lost failed with %q after %d attempt(s): unavailable means the server could not answer, so try again", err, s.Calls.N()-before)
	}

	// 4. in_flight is retried: the same deposit is still being applied.
	before = s.Calls.N()
	r, err := c.Deposit(lab.Context(t, 5*time.Second), bank.DepositRequest{Account: acc, Amount: 100, IdempotencyKey: "grader-1"})
	if err != nil {
		t.Fatalf("a deposit answered in_flight failed with %q after %d attempt(s): in_flight means \"not yet\", so ask again after a pause", err, s.Calls.N()-before)
	}
	if !r.Replayed {
		t.Fatalf("the retried deposit was not a replay of the first: %+v", r)
	}
}
