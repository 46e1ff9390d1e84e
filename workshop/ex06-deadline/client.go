// Package deadline is exercise 6 of the workshop: a retry loop lives
// inside its caller's deadline. It never sleeps past it, and it stops
// waiting the moment the caller gives up.
package deadline

import (
	"context"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// Client calls next (a transport's client) and retries the calls that
// failed for want of availability, Backoff apart.
type Client struct {
	next        bank.Bank
	MaxAttempts int
	Backoff     time.Duration
}

// NewClient returns a Client of next that makes up to 5 attempts.
func NewClient(next bank.Bank, backoff time.Duration) *Client {
	return &Client{next: next, MaxAttempts: 5, Backoff: backoff}
}

// Balance returns the balance of acc.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	for n := 1; ; n++ {
		m, err := c.next.Balance(ctx, acc)
		if err == nil || !bank.CodeOf(err).Retryable() || n >= c.MaxAttempts || ctx.Err() != nil {
			return m, err
		}
		if werr := wait(ctx, c.Backoff); werr != nil {
			// No retry can be made in time: the last failure says why.
			return m, err
		}
	}
}
