//go:build solution

package jitter

import "time"

// FullJitter returns the delay before retry number attempt (0 for the
// first retry): a duration drawn uniformly at random, with r, from 0 to
// b.Ceiling(attempt) inclusive ("full jitter", in the AWS Architecture
// Blog's "Exponential Backoff And Jitter").
func (b Backoff) FullJitter(attempt int, r Rand) time.Duration {
	ceiling := b.Ceiling(attempt)
	if ceiling <= 0 {
		return 0
	}
	// Int64N(n) is in [0, n): n = ceiling+1 makes the ceiling possible.
	return time.Duration(r.Int64N(int64(ceiling) + 1))
}
