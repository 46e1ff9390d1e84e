//go:build !solution

package jitter

import "time"

// FullJitter returns the delay before retry number attempt (0 for the
// first retry): a duration drawn uniformly at random, with r, from 0 to
// b.Ceiling(attempt) inclusive ("full jitter", in the AWS Architecture
// Blog's "Exponential Backoff And Jitter").
func (b Backoff) FullJitter(attempt int, r Rand) time.Duration {
	// TODO(student): this waits the ceiling itself, the same for every
	// client: they all come back at the same moment. Draw the delay at
	// random in [0, ceiling] with r.Int64N.
	return b.Ceiling(attempt)
}
