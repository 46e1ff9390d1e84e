package resilience

import (
	"fmt"
	"time"
)

// Jitter is how a retry's delay is randomised, so that clients that failed
// together do not retry together. The names and formulas are those of the
// AWS Architecture Blog's "Exponential Backoff And Jitter".
type Jitter uint8

const (
	// JitterFull sleeps random(0, min(MaxBackoff, InitialBackoff·Multiplier^n)).
	// It spreads retries the most and is the default.
	JitterFull Jitter = iota
	// JitterEqual sleeps half the capped exponential delay plus a random
	// part of the other half, so no retry comes sooner than half of it.
	JitterEqual
	// JitterDecorrelated sleeps min(MaxBackoff, random(InitialBackoff,
	// 3·previous delay)): each delay grows from the last one drawn rather
	// than from the attempt number, and Multiplier is not used.
	JitterDecorrelated
	// JitterNone sleeps exactly min(MaxBackoff, InitialBackoff·Multiplier^n).
	// Only for comparison: clients that failed together retry in lockstep.
	JitterNone
)

var jitterNames = [...]string{"full", "equal", "decorrelated", "none"}

// String returns the jitter's name: full, equal, decorrelated or none.
func (j Jitter) String() string {
	if int(j) < len(jitterNames) {
		return jitterNames[j]
	}
	return fmt.Sprintf("jitter(%d)", uint8(j))
}

// ParseJitter is the inverse of Jitter.String, for command-line flags.
func ParseJitter(s string) (Jitter, error) {
	for i, n := range jitterNames {
		if n == s {
			return Jitter(i), nil
		}
	}
	return 0, fmt.Errorf("unknown jitter %q (want full, equal, decorrelated or none)", s)
}

// RetryPolicy says how often and how soon a failed call is tried again.
// The zero value of a field means its default.
type RetryPolicy struct {
	// MaxAttempts is the most attempts one call makes, the first included
	// (default 4; 1 turns retrying off).
	MaxAttempts int
	// InitialBackoff is the delay before the first retry, before jitter
	// (default 10ms).
	InitialBackoff time.Duration
	// MaxBackoff caps every delay (default 1s).
	MaxBackoff time.Duration
	// Multiplier is the growth of the delay from one retry to the next
	// (default 2).
	Multiplier float64
	// Jitter randomises each delay (default JitterFull).
	Jitter Jitter
	// AttemptTimeout, if positive, bounds each attempt; the caller's own
	// deadline still bounds the whole call and is never extended. An
	// attempt that runs out of its own time is retried. The default, 0,
	// gives each attempt the caller's whole remaining time and costs no
	// allocation; a per-attempt timeout costs a context per attempt.
	AttemptTimeout time.Duration
}

// Defaults of RetryPolicy.
const (
	DefaultMaxAttempts    = 4
	DefaultInitialBackoff = 10 * time.Millisecond
	DefaultMaxBackoff     = time.Second
	DefaultMultiplier     = 2.0
)

// withDefaults fills in the zero fields.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = DefaultInitialBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = p.InitialBackoff
	}
	if p.Multiplier < 1 {
		p.Multiplier = DefaultMultiplier
	}
	return p
}

// Rand is the random source of the jitter. Int64N returns a number in
// [0, n) for n > 0 and must be safe for concurrent use when the layers are
// shared. *math/rand/v2.Rand has this method (but is not safe for
// concurrent use); the default uses math/rand/v2's global source.
type Rand interface {
	Int64N(n int64) int64
}

// backoff computes the delays of one call. It lives on the caller's stack.
type backoff struct {
	p    *RetryPolicy
	rnd  Rand
	next time.Duration // the capped exponential delay of the next retry, before jitter
	prev time.Duration // the last delay drawn (decorrelated jitter)
}

func newBackoff(p *RetryPolicy, rnd Rand) backoff {
	return backoff{p: p, rnd: rnd, next: p.InitialBackoff, prev: p.InitialBackoff}
}

// between returns a random duration in [lo, hi].
func (b *backoff) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(b.rnd.Int64N(int64(hi-lo)+1))
}

// delay returns the delay before the next retry and advances the sequence.
func (b *backoff) delay() time.Duration {
	p := b.p
	exp := b.next
	if grown := time.Duration(float64(exp) * p.Multiplier); grown > p.MaxBackoff || grown < exp {
		b.next = p.MaxBackoff
	} else {
		b.next = grown
	}
	switch p.Jitter {
	case JitterNone:
		return exp
	case JitterEqual:
		return exp/2 + b.between(0, exp-exp/2)
	case JitterDecorrelated:
		hi := 3 * b.prev
		if hi > p.MaxBackoff || hi < b.prev {
			hi = p.MaxBackoff
		}
		d := b.between(p.InitialBackoff, hi)
		b.prev = d
		return d
	default:
		return b.between(0, exp)
	}
}
