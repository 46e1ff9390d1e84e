package resilience

import (
	"context"
	"errors"

	"github.com/igbank/igbank/common/bank"
	"github.com/sony/gobreaker/v2"
)

// retrier is the retry layer: a bank.Bank that tries each call again on
// availability failures, as RetryPolicy says, within the caller's deadline
// and the target's Budget.
type retrier struct {
	next   bank.Bank
	policy RetryPolicy
	budget *Budget
	clock  Clock
	rnd    Rand
	hooks  Hooks
	stats  *Stats
	newKey func() string
}

// Retryable reports whether the retry layer tries a call again after err,
// the caller's context still being live: an availability failure
// (unavailable, or deadline exceeded when it was the attempt's own time
// that ran out) or a deposit with the same key still in flight. Business
// errors, cancellations, internal errors and the fail-fast of an open
// breaker are final.
func Retryable(err error) bool {
	if err == nil || isBreakerRejection(err) {
		return false
	}
	return bank.CodeOf(err).Retryable()
}

// isBreakerRejection reports whether err is the breaker failing fast.
func isBreakerRejection(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}

// do runs f until it succeeds or the policy, budget, deadline or the error
// say stop. It allocates nothing unless a per-attempt timeout is set or a
// retry sleeps.
func do[T any](r *retrier, ctx context.Context, op bank.Op, f func(context.Context) (T, error)) (T, error) {
	if r.stats != nil {
		r.stats.Calls.Add(1)
	}
	deadline, hasDeadline := ctx.Deadline()
	bo := newBackoff(&r.policy, r.rnd)
	for n := 1; ; n++ {
		actx, cancel := ctx, context.CancelFunc(nil)
		if r.policy.AttemptTimeout > 0 {
			if d := r.clock.Now().Add(r.policy.AttemptTimeout); !hasDeadline || d.Before(deadline) {
				actx, cancel = context.WithDeadline(ctx, d)
			}
		}
		v, err := f(actx)
		if cancel != nil {
			cancel()
		}
		if r.stats != nil {
			r.stats.Attempts.Add(1)
		}
		if r.hooks.Attempt != nil {
			r.hooks.Attempt(op, n, err)
		}
		if err == nil {
			r.budget.answered()
			return v, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			// The caller's own deadline or cancellation: final, and said
			// as such whatever the transport made of it.
			if c := bank.CodeOf(err); c != bank.DeadlineExceeded && c != bank.Canceled {
				err = bank.FromContext(ctx, cerr)
			}
			return v, r.giveUp(op, n, GiveUpDeadline, err)
		}
		if !Retryable(err) {
			if !isBreakerRejection(err) && bank.CodeOf(err) != bank.Canceled {
				r.budget.answered() // the server answered: it is up
			}
			return v, r.giveUp(op, n, GiveUpNotRetryable, err)
		}
		allowed := r.budget.failed()
		if n >= r.policy.MaxAttempts {
			return v, r.giveUp(op, n, GiveUpAttempts, err)
		}
		if !allowed {
			if r.stats != nil {
				r.stats.BudgetExhausted.Add(1)
			}
			return v, r.giveUp(op, n, GiveUpBudget, err)
		}
		delay := bo.delay()
		if hint, ok := bank.RetryAfter(err); ok && hint > delay {
			// The server said when it expects room (an overloaded
			// server's refusal): an earlier retry would be refused too.
			delay = hint
		}
		if hasDeadline && !r.clock.Now().Add(delay).Before(deadline) {
			// Sleeping would take us to or past the deadline: no attempt
			// could start in time, so stop now rather than sleep in vain.
			if r.stats != nil {
				r.stats.DeadlineStops.Add(1)
			}
			return v, r.giveUp(op, n, GiveUpDeadline, err)
		}
		if r.stats != nil {
			r.stats.Retries.Add(1)
			r.stats.RetryDelay.Add(int64(delay))
		}
		if r.hooks.Retry != nil {
			r.hooks.Retry(op, n, delay, err)
		}
		if serr := r.clock.Sleep(ctx, delay); serr != nil {
			return v, r.giveUp(op, n, GiveUpDeadline, bank.FromContext(ctx, serr))
		}
		if cerr := ctx.Err(); cerr != nil { // a timer and the deadline raced
			return v, r.giveUp(op, n, GiveUpDeadline, bank.FromContext(ctx, cerr))
		}
	}
}

func (r *retrier) giveUp(op bank.Op, n int, why GiveUp, err error) error {
	if r.stats != nil {
		r.stats.GiveUps.Add(1)
	}
	if r.hooks.GiveUp != nil {
		r.hooks.GiveUp(op, n, why, err)
	}
	return err
}

// Balance implements bank.Bank.
func (r *retrier) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	return do(r, ctx, bank.OpBalance, func(ctx context.Context) (bank.Money, error) {
		return r.next.Balance(ctx, acc)
	})
}

// Statement implements bank.Bank.
func (r *retrier) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	return do(r, ctx, bank.OpStatement, func(ctx context.Context) (bank.Statement, error) {
		return r.next.Statement(ctx, req)
	})
}

// Deposit implements bank.Bank. A deposit is retried only because every
// attempt carries the same idempotency key: the caller's, or one made here
// once for this logical deposit. A deposit whose response was lost is then
// replayed by the server, not applied twice.
func (r *retrier) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if req.IdempotencyKey == "" {
		req.IdempotencyKey = r.newKey()
	}
	return do(r, ctx, bank.OpDeposit, func(ctx context.Context) (bank.DepositReceipt, error) {
		return r.next.Deposit(ctx, req)
	})
}
