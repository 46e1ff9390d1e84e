package resilience

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// GiveUp says why the retry layer stopped retrying a failed call.
type GiveUp uint8

const (
	// GiveUpNotRetryable: the error is a business error (not found, invalid
	// argument, key reused, ...), a cancellation, or a fail-fast from an
	// open breaker.
	GiveUpNotRetryable GiveUp = iota
	// GiveUpAttempts: RetryPolicy.MaxAttempts were made.
	GiveUpAttempts
	// GiveUpBudget: the target's retry budget is spent.
	GiveUpBudget
	// GiveUpDeadline: the caller's deadline would pass before the next
	// attempt could start, or has passed.
	GiveUpDeadline
)

func (g GiveUp) String() string {
	switch g {
	case GiveUpNotRetryable:
		return "not_retryable"
	case GiveUpAttempts:
		return "attempts"
	case GiveUpBudget:
		return "budget"
	case GiveUpDeadline:
		return "deadline"
	}
	return "giveup?"
}

// BreakerState is the state of a circuit breaker.
type BreakerState uint8

// The states of a circuit breaker.
const (
	BreakerClosed BreakerState = iota
	BreakerHalfOpen
	BreakerOpen
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	case BreakerOpen:
		return "open"
	}
	return "state?"
}

// Hooks are called by the layers as things happen, synchronously and from
// the calling goroutine (state changes: from whichever call caused them).
// Any of them may be nil. They must be quick and must not call the
// wrapped Bank.
type Hooks struct {
	// Attempt is called after every attempt: n counts from 1, err is the
	// attempt's outcome (nil for success).
	Attempt func(op bank.Op, n int, err error)
	// Retry is called before sleeping delay ahead of attempt n+1, after
	// attempt n failed with err.
	Retry func(op bank.Op, n int, delay time.Duration, err error)
	// GiveUp is called when a failed call is returned to the caller after
	// n attempts.
	GiveUp func(op bank.Op, n int, why GiveUp, err error)
	// StateChange is called when the breaker changes state.
	StateChange func(from, to BreakerState)
}

// join returns hooks that call h's, then o's.
func (h Hooks) join(o Hooks) Hooks {
	return Hooks{
		Attempt:     join3(h.Attempt, o.Attempt),
		Retry:       join4(h.Retry, o.Retry),
		GiveUp:      join4(h.GiveUp, o.GiveUp),
		StateChange: join2(h.StateChange, o.StateChange),
	}
}

func join2[A, B any](f, g func(A, B)) func(A, B) {
	if f == nil {
		return g
	}
	if g == nil {
		return f
	}
	return func(a A, b B) { f(a, b); g(a, b) }
}

func join3[A, B, C any](f, g func(A, B, C)) func(A, B, C) {
	if f == nil {
		return g
	}
	if g == nil {
		return f
	}
	return func(a A, b B, c C) { f(a, b, c); g(a, b, c) }
}

func join4[A, B, C, D any](f, g func(A, B, C, D)) func(A, B, C, D) {
	if f == nil {
		return g
	}
	if g == nil {
		return f
	}
	return func(a A, b B, c C, d D) { f(a, b, c, d); g(a, b, c, d) }
}

// Stats counts what the layers did, for the load generator's report
// (retries per call = Retries / Calls). Safe for concurrent use; the zero
// value is ready. Pass the same *Stats to several Wraps to add them up.
type Stats struct {
	Calls           atomic.Int64 // calls made by the caller
	Attempts        atomic.Int64 // attempts sent to the next layer (the breaker, then the transport)
	Retries         atomic.Int64 // delays slept before a retry
	RetryDelay      atomic.Int64 // nanoseconds slept in those delays
	GiveUps         atomic.Int64 // calls returned failed, for any reason
	BudgetExhausted atomic.Int64 // calls that were not retried because the budget was spent
	DeadlineStops   atomic.Int64 // calls that were not retried because the deadline was too near
	BreakerRejected atomic.Int64 // attempts failed fast by the open breaker
	BreakerOpened   atomic.Int64 // transitions to open
	BreakerClosed   atomic.Int64 // transitions to closed
}

// Clock is the time source of the retry layer: tests inject a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, and returns ctx.Err() if ctx
	// ended first.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// globalRand is math/rand/v2's global source: safe for concurrent use and
// free of locks.
type globalRand struct{}

func (globalRand) Int64N(n int64) int64 { return rand.Int64N(n) }
