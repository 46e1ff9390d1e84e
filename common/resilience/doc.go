// Package resilience holds the client-side layers that make remote calls
// to the bank safe to retry: retry with capped exponential backoff and
// jitter, a retry budget, a circuit breaker, and idempotency keys. They
// wrap a bank.Bank and return a bank.Bank, so they work with every
// transport's client without the transport knowing:
//
//	c, err := rawbank.Dial(ctx, "127.0.0.1:7001") // or any transport
//	b := resilience.Wrap(c)                        // the defaults
//	b.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 500})
//
// # The layers, from the caller inwards
//
//	caller → idempotency key → retry (backoff, jitter, budget, deadline) → circuit breaker → transport
//
// Idempotency key. A Deposit without a key gets one (NewKey: 130 random
// bits from crypto/rand) once, before the retry loop, and every attempt of
// that logical deposit carries it. That alone is what makes retrying a
// deposit safe: when a response is lost after the server applied the
// deposit, the retry is answered with the stored receipt (Replayed) instead
// of being applied again. A caller that wants to retry a deposit itself,
// later or from another process, passes its own key.
//
// Retry. An attempt that fails for want of availability (unavailable, its
// own deadline exceeded, or a deposit with the same key still in flight) is
// tried again after a delay of InitialBackoff·Multiplier^n capped at
// MaxBackoff, randomised by the Jitter (full by default; equal,
// decorrelated and none for comparison), up to MaxAttempts. Business errors
// (not found, invalid argument, key reused), internal errors,
// cancellations and an open breaker are returned at once. The caller's
// deadline is never extended: no delay is slept that would end at or past
// it, no attempt starts after it, and an optional AttemptTimeout bounds
// each attempt inside it. Defaults: 4 attempts, 10ms initial, 1s maximum,
// multiplier 2, full jitter, no per-attempt timeout. A failure that
// carries the server's retry-after hint (bank.RetryAfter: an overloaded
// server refusing a call, package shed) is retried no sooner than the
// hint says, and not at all if the hint reaches past the deadline.
//
// Retry budget. The retries to one target share a Budget, the token
// bucket of gRPC's retryThrottling: 10 tokens, each failed attempt takes
// one, each answered call gives back 0.1, and retries stop while 5 or fewer
// remain. In a total outage it brings the attempts per call down to about
// one (1.003 over 1,000 calls in TestBudgetCapsRetriesInOutage), so retries
// never multiply the load on a target that is already down.
//
// Circuit breaker. github.com/sony/gobreaker/v2, one per Wrap. Only
// availability failures (unavailable, deadline exceeded, which is what
// transports report for a broken connection) count as failures; an answer
// from the server, even an error, counts as a success, and a cancellation
// by the caller is not counted. By default it opens after 5 failures in a
// row (or, with FailureRatio, at a failure ratio over a rolling window once
// MinRequests calls were seen), fails calls at once with ErrBreakerOpen
// (code Unavailable, wrapping gobreaker.ErrOpenState) for 5s, then lets 1
// probe through: a success closes it, a failure opens it again.
//
// Why this order. Retry is outside the breaker, so the breaker sees every
// attempt, exactly what the target sees, and an open breaker ends a call's
// retrying at once, without sleeping, instead of the retry loop knocking
// on a target known to be down. The key is outside the retry so that it is
// made once per logical deposit, not once per attempt.
//
// # Observing
//
// Stats counts calls, attempts, retries, time slept, give-ups (and those
// due to the budget or the deadline), breaker rejections and transitions; Hooks are called on every attempt, retry delay,
// give-up and state change. Both are optional and cost nothing when
// absent.
//
// # Cost
//
// The success path of every method allocates nothing and costs about
// 60-150ns on the 2-core machine this was measured on (BenchmarkLayers).
// Two things make that so: the retry layer keeps its state on the stack
// and reads no clock unless it must, and the breaker skips gobreaker (a
// mutex and two clock reads, 700-1000ns here) for a success while it is
// closed and has seen no failure since its last success, which changes
// nothing the consecutive-failures rule counts. The failure-ratio rule
// counts every call and has no such fast path. An AttemptTimeout costs a
// context and a timer per attempt (4 allocations, about 1µs here).
//
// # Testing
//
// Package fault injects lost requests, lost responses and reset
// connections below any transport; package resiliencetest runs the
// exactly-once property over a real transport with those faults, and shows
// the double deposit when the server ignores keys (bank.IgnoreKeys).
package resilience
