package resilience

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/sony/gobreaker/v2"
)

// BreakerSettings configure the circuit breaker of one target. The zero
// value of a field means its default.
type BreakerSettings struct {
	// Name names the breaker in state changes (default "igbank").
	Name string
	// ConsecutiveFailures trips the breaker after that many availability
	// failures in a row (default 5). Ignored when FailureRatio is set.
	ConsecutiveFailures uint32
	// FailureRatio, if positive, trips the breaker instead when at least
	// that fraction (0 to 1] of the calls in the rolling Window failed,
	// once MinRequests calls were seen in it.
	FailureRatio float64
	// MinRequests is the least number of calls in the window before
	// FailureRatio may trip the breaker (default 20).
	MinRequests uint32
	// Window is the rolling window of FailureRatio (default 10s), kept in
	// buckets of BucketPeriod (default Window/10).
	Window       time.Duration
	BucketPeriod time.Duration
	// OpenTimeout is how long the breaker stays open, failing every call
	// at once, before it lets probes through (default 5s).
	OpenTimeout time.Duration
	// HalfOpenProbes is how many calls may probe the target while half
	// open; that many successes in a row close the breaker, and one
	// failure opens it again (default 1).
	HalfOpenProbes uint32
}

// Defaults of BreakerSettings.
const (
	DefaultConsecutiveFailures = 5
	DefaultMinRequests         = 20
	DefaultWindow              = 10 * time.Second
	DefaultOpenTimeout         = 5 * time.Second
	DefaultHalfOpenProbes      = 1
)

// ErrBreakerOpen is the error of a call that the breaker failed fast: code
// Unavailable, so callers and other layers treat it as the target being
// down, and errors.Is(err, gobreaker.ErrOpenState) holds. While half open,
// calls beyond the probes get the same error with
// gobreaker.ErrTooManyRequests as the cause.
var (
	ErrBreakerOpen = &bank.Error{Code: bank.Unavailable,
		Message: "circuit breaker is open: failing fast", Err: gobreaker.ErrOpenState}
	errBreakerBusy = &bank.Error{Code: bank.Unavailable,
		Message: "circuit breaker is half open and its probes are in flight: failing fast", Err: gobreaker.ErrTooManyRequests}
)

// IsAvailabilityFailure reports whether err says the target could not
// serve the call: unavailable, or deadline exceeded (which includes a
// broken connection, since transports report those as unavailable). These
// alone count against a breaker; an answer from the server, even an
// error, shows that it is up.
func IsAvailabilityFailure(err error) bool {
	c := bank.CodeOf(err)
	return c == bank.Unavailable || c == bank.DeadlineExceeded
}

// breakerBank is the breaker layer: one gobreaker circuit breaker for
// every call to the target it wraps.
//
// gobreaker takes a mutex and reads the clock twice per call, which on a
// small virtual machine costs more than the rest of the layers together
// (time.Now alone took 200-300ns here). With the consecutive-failures
// rule, a success while the breaker is closed and has seen no failure
// since its last success changes nothing the rule looks at, so such calls
// skip gobreaker: the fast path. A failure is reported to gobreaker as it
// happens, and from then on every call goes through gobreaker until one
// succeeds. Under concurrency, "consecutive" is in order of completion, as
// in gobreaker itself. The failure-ratio rule needs every call counted and
// has no fast path.
type breakerBank struct {
	next  bank.Bank
	stats *Stats
	cb    *gobreaker.TwoStepCircuitBreaker[struct{}]
	fast  bool          // the consecutive-failures rule: the fast path may be used
	open  atomic.Bool   // the breaker is not closed (kept by OnStateChange)
	dirty atomic.Uint64 // failures reported since the breaker last saw a success; 0: clean
}

func newBreaker(next bank.Bank, s BreakerSettings, hooks Hooks, stats *Stats) *breakerBank {
	if s.Name == "" {
		s.Name = "igbank"
	}
	if s.ConsecutiveFailures == 0 {
		s.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if s.MinRequests == 0 {
		s.MinRequests = DefaultMinRequests
	}
	if s.Window <= 0 {
		s.Window = DefaultWindow
	}
	if s.BucketPeriod <= 0 {
		s.BucketPeriod = s.Window / 10
	}
	if s.OpenTimeout <= 0 {
		s.OpenTimeout = DefaultOpenTimeout
	}
	if s.HalfOpenProbes == 0 {
		s.HalfOpenProbes = DefaultHalfOpenProbes
	}
	bb := &breakerBank{next: next, stats: stats, fast: s.FailureRatio <= 0}
	st := gobreaker.Settings{
		Name:        s.Name,
		MaxRequests: s.HalfOpenProbes,
		Timeout:     s.OpenTimeout,
		IsSuccessful: func(err error) bool {
			return !IsAvailabilityFailure(err)
		},
		IsExcluded: func(err error) bool {
			// The caller giving up says nothing about the target.
			return bank.CodeOf(err) == bank.Canceled
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			bb.open.Store(to != gobreaker.StateClosed)
			if stats != nil {
				switch to {
				case gobreaker.StateOpen:
					stats.BreakerOpened.Add(1)
				case gobreaker.StateClosed:
					stats.BreakerClosed.Add(1)
				}
			}
			if hooks.StateChange != nil {
				hooks.StateChange(breakerState(from), breakerState(to))
			}
		},
	}
	if s.FailureRatio > 0 {
		ratio, minReq := s.FailureRatio, s.MinRequests
		st.Interval, st.BucketPeriod = s.Window, s.BucketPeriod
		st.ReadyToTrip = func(c gobreaker.Counts) bool {
			return c.Requests >= minReq && float64(c.TotalFailures) >= ratio*float64(c.Requests)
		}
	} else {
		n := s.ConsecutiveFailures
		st.ReadyToTrip = func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= n }
	}
	bb.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](st)
	return bb
}

func breakerState(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateOpen:
		return BreakerOpen
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	}
	return BreakerClosed
}

// rejection turns gobreaker's own errors into typed bank errors.
func rejection(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gobreaker.ErrOpenState):
		return ErrBreakerOpen
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		return errBreakerBusy
	}
	return err
}

// guard runs call under the breaker.
func (b *breakerBank) guard(call func() error) error {
	if b.fast && !b.open.Load() && b.dirty.Load() == 0 {
		err := call()
		if err != nil && IsAvailabilityFailure(err) {
			b.dirty.Add(1)
			if done, aerr := b.cb.Allow(); aerr == nil {
				done(err)
			}
		}
		return err
	}
	clean := b.dirty.Load()
	done, aerr := b.cb.Allow()
	if aerr != nil {
		if b.stats != nil {
			b.stats.BreakerRejected.Add(1)
		}
		return rejection(aerr)
	}
	reported := false
	defer func() {
		if !reported { // call panicked: free the probe's place, as gobreaker's Execute does
			done(bank.Errorf(bank.Internal, "panic"))
		}
	}()
	err := call()
	reported = true
	done(err)
	if err == nil || !IsAvailabilityFailure(err) {
		if bank.CodeOf(err) != bank.Canceled {
			// gobreaker saw a success: unless a failure was reported
			// meanwhile, it is clean again.
			b.dirty.CompareAndSwap(clean, 0)
		}
	} else {
		b.dirty.Add(1)
	}
	return err
}

// Balance implements bank.Bank.
func (b *breakerBank) Balance(ctx context.Context, acc bank.AccountNo) (m bank.Money, err error) {
	err = b.guard(func() error {
		var e error
		m, e = b.next.Balance(ctx, acc)
		return e
	})
	return m, err
}

// Statement implements bank.Bank.
func (b *breakerBank) Statement(ctx context.Context, req bank.StatementRequest) (st bank.Statement, err error) {
	err = b.guard(func() error {
		var e error
		st, e = b.next.Statement(ctx, req)
		return e
	})
	return st, err
}

// Deposit implements bank.Bank.
func (b *breakerBank) Deposit(ctx context.Context, req bank.DepositRequest) (r bank.DepositReceipt, err error) {
	err = b.guard(func() error {
		var e error
		r, e = b.next.Deposit(ctx, req)
		return e
	})
	return r, err
}
