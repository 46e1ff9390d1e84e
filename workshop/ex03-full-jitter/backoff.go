// Package jitter is exercise 3 of the workshop: full jitter. Clients that
// failed together (a server restarted, a network blipped) and wait the
// same capped exponential delay retry together, in waves that hit the
// recovering server all at once. Drawing each delay at random spreads
// them out.
package jitter

import (
	"context"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// Backoff is a capped exponential backoff policy.
type Backoff struct {
	Initial    time.Duration // the ceiling of the first retry's delay
	Max        time.Duration // caps every ceiling
	Multiplier float64       // the growth of the ceiling from one retry to the next
}

// Ceiling returns the capped exponential delay before retry number
// attempt (0 for the first retry): min(Max, Initial·Multiplier^attempt).
func (b Backoff) Ceiling(attempt int) time.Duration {
	d := float64(b.Initial)
	for range attempt {
		d *= b.Multiplier
		if d >= float64(b.Max) {
			return b.Max
		}
	}
	return min(time.Duration(d), b.Max)
}

// Rand is a source of random numbers: Int64N returns a number in [0, n)
// for n > 0. *math/rand/v2.Rand has this method.
type Rand interface {
	Int64N(n int64) int64
}

// Client calls next (a transport's client) and retries availability
// failures after FullJitter's delays.
type Client struct {
	next        bank.Bank
	Backoff     Backoff
	MaxAttempts int
	rnd         Rand
}

// NewClient returns a Client of next that makes up to 5 attempts, drawing
// its delays from rnd.
func NewClient(next bank.Bank, b Backoff, rnd Rand) *Client {
	return &Client{next: next, Backoff: b, MaxAttempts: 5, rnd: rnd}
}

// Balance returns the balance of acc.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	for n := 1; ; n++ {
		m, err := c.next.Balance(ctx, acc)
		if err == nil || !bank.CodeOf(err).Retryable() || n >= c.MaxAttempts || ctx.Err() != nil {
			return m, err
		}
		time.Sleep(c.Backoff.FullJitter(n-1, c.rnd))
	}
}
