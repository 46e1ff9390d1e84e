package resilience

import "sync/atomic"

// Budget is a retry budget shared by every call to one target: the token
// bucket of gRPC's retryThrottling (gRFC A6). The bucket starts full with
// MaxTokens. Every attempt that fails for want of availability takes one
// token; every call that the server answered (success or business error)
// gives back TokenRatio; a retry is allowed only while more than half of
// MaxTokens remain. In a total outage the bucket drains after a few calls
// and from then on each call makes one attempt, so retries cannot multiply
// the load on a target that is already failing; once calls succeed again
// the bucket refills and retrying resumes.
//
// A Budget is safe for concurrent use. The zero value is not usable; use
// NewBudget. A nil *Budget allows every retry.
type Budget struct {
	tokens atomic.Int64 // in thousandths of a token
	max    int64
	ratio  int64
}

// Defaults of the budget: the values of gRFC A6's example.
const (
	DefaultMaxTokens  = 10
	DefaultTokenRatio = 0.1
)

// NewBudget returns a full budget of maxTokens (1 to 1000; default 10 if
// out of range) that gives back tokenRatio tokens per answered call (more
// than 0, at most 1 token in thousandths; default 0.1 if out of range).
func NewBudget(maxTokens int, tokenRatio float64) *Budget {
	if maxTokens <= 0 || maxTokens > 1000 {
		maxTokens = DefaultMaxTokens
	}
	ratio := int64(tokenRatio * 1000)
	if ratio <= 0 || ratio > int64(maxTokens)*1000 {
		ratio = DefaultTokenRatio * 1000
	}
	b := &Budget{max: int64(maxTokens) * 1000, ratio: ratio}
	b.tokens.Store(b.max)
	return b
}

// Tokens returns the tokens left, for reports and tests.
func (b *Budget) Tokens() float64 {
	if b == nil {
		return 0
	}
	return float64(b.tokens.Load()) / 1000
}

// answered records a call the server answered. While the bucket is full
// (the steady state) it only reads, so successes do not contend.
func (b *Budget) answered() {
	if b == nil {
		return
	}
	for {
		t := b.tokens.Load()
		if t >= b.max {
			return
		}
		n := min(t+b.ratio, b.max)
		if b.tokens.CompareAndSwap(t, n) {
			return
		}
	}
}

// failed records a failed attempt and reports whether a retry is still
// allowed: gRPC's throttle(), with the comparison inverted.
func (b *Budget) failed() bool {
	if b == nil {
		return true
	}
	for {
		t := b.tokens.Load()
		n := max(t-1000, 0)
		if b.tokens.CompareAndSwap(t, n) {
			return n > b.max/2
		}
	}
}
