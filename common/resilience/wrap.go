package resilience

import (
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

// Option configures Wrap.
type Option func(*config)

type config struct {
	retry    bool
	policy   RetryPolicy
	budget   *Budget
	noBudget bool
	breaker  bool
	settings BreakerSettings
	hooks    Hooks
	stats    *Stats
	clock    Clock
	rnd      Rand
	newKey   func() string
}

// WithRetry sets the retry policy (default: RetryPolicy{}, its defaults).
func WithRetry(p RetryPolicy) Option { return func(c *config) { c.retry, c.policy = true, p } }

// WithoutRetry leaves the retry layer out: every call is one attempt. A
// deposit without a key still gets one.
func WithoutRetry() Option { return func(c *config) { c.retry = false } }

// WithBudget shares b among several Wraps of the same target (default: a
// new NewBudget(DefaultMaxTokens, DefaultTokenRatio) per Wrap).
func WithBudget(b *Budget) Option { return func(c *config) { c.budget, c.noBudget = b, b == nil } }

// WithoutBudget lets every failed call retry up to MaxAttempts, even in a
// total outage. For experiments that show why a budget is needed.
func WithoutBudget() Option { return func(c *config) { c.budget, c.noBudget = nil, true } }

// WithBreaker sets the breaker's settings (default: BreakerSettings{}, its
// defaults).
func WithBreaker(s BreakerSettings) Option {
	return func(c *config) { c.breaker, c.settings = true, s }
}

// WithoutBreaker leaves the circuit breaker out.
func WithoutBreaker() Option { return func(c *config) { c.breaker = false } }

// WithHooks adds functions called on every attempt, retry, give-up and
// breaker state change. Several WithHooks add up: each hook is called, in
// the order given (a program's own hooks beside package metrics').
func WithHooks(h Hooks) Option { return func(c *config) { c.hooks = c.hooks.join(h) } }

// WithStats makes the layers count into s.
func WithStats(s *Stats) Option { return func(c *config) { c.stats = s } }

// WithClock sets the retry layer's clock (default: the real one). The
// breaker keeps gobreaker's own clock, which cannot be replaced.
func WithClock(clk Clock) Option { return func(c *config) { c.clock = clk } }

// WithRand sets the jitter's random source (default: math/rand/v2's).
func WithRand(r Rand) Option { return func(c *config) { c.rnd = r } }

// WithKeyFunc sets how a deposit without an idempotency key gets one
// (default NewKey).
func WithKeyFunc(f func() string) Option { return func(c *config) { c.newKey = f } }

// Wrap returns b with the client-side layers around it. b is usually a
// transport's client (any of them: the layers see only bank.Bank), and
// Wrap should be called once per target, since the retry budget and the
// breaker are the target's.
//
// The layers, from the caller inwards:
//
//	caller → key → retry (backoff, jitter, budget, deadline) → breaker → b
//
// The key is given before the retry loop, so all attempts of one deposit
// carry the same key and the server applies it once. Retry is outside the
// breaker: the breaker sees every attempt, which is what the target sees,
// and an open breaker ends the retry loop at once with ErrBreakerOpen
// instead of the loop sleeping and knocking on a target known to be down.
// (With the breaker outside, one call's retries would count as one
// failure, and an open breaker would not stop calls already retrying.)
func Wrap(b bank.Bank, opts ...Option) bank.Bank {
	c := config{retry: true, breaker: true}
	for _, o := range opts {
		o(&c)
	}
	if c.breaker {
		b = newBreaker(b, c.settings, c.hooks, c.stats)
	}
	r := &retrier{
		next:   b,
		policy: c.policy.withDefaults(),
		budget: c.budget,
		clock:  c.clock,
		rnd:    c.rnd,
		hooks:  c.hooks,
		stats:  c.stats,
		newKey: c.newKey,
	}
	if !c.retry {
		r.policy.MaxAttempts = 1
	}
	if r.budget == nil && !c.noBudget {
		r.budget = NewBudget(DefaultMaxTokens, DefaultTokenRatio)
	}
	if r.clock == nil {
		r.clock = realClock{}
	}
	if r.rnd == nil {
		r.rnd = globalRand{}
	}
	if r.newKey == nil {
		r.newKey = NewKey
	}
	return r
}

// WrapClient is Wrap for a transport's client: the result still has Close,
// which closes c.
func WrapClient(c transport.Client, opts ...Option) transport.Client {
	return client{Bank: Wrap(c, opts...), c: c}
}

type client struct {
	bank.Bank
	c transport.Client
}

func (c client) Close() error { return c.c.Close() }
