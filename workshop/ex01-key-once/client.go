// Package keyonce is exercise 1 of the workshop: a client that retries a
// deposit after a lost response must send the same idempotency key on
// every attempt, so that the server can tell a retry from a new deposit.
package keyonce

import (
	"context"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// Client makes deposits through next (a transport's client), retrying
// those that fail for want of availability.
type Client struct {
	next bank.Bank
	// NewKey returns a fresh idempotency key (crypto/rand in NewClient).
	NewKey func() string
	// MaxAttempts is the most attempts one deposit makes.
	MaxAttempts int
	// Backoff is the pause between attempts.
	Backoff time.Duration
}

// NewClient returns a Client of next with 4 attempts, 5ms apart.
func NewClient(next bank.Bank) *Client {
	return &Client{next: next, NewKey: newKey, MaxAttempts: 4, Backoff: 5 * time.Millisecond}
}

// retry calls attempt until it succeeds, fails with an error that a retry
// cannot fix, or MaxAttempts were made.
func retry[T any](ctx context.Context, c *Client, attempt func(context.Context) (T, error)) (T, error) {
	for n := 1; ; n++ {
		v, err := attempt(ctx)
		if err == nil || !bank.CodeOf(err).Retryable() || n >= c.MaxAttempts || ctx.Err() != nil {
			return v, err
		}
		select {
		case <-time.After(c.Backoff):
		case <-ctx.Done():
			return v, bank.FromContext(ctx, ctx.Err())
		}
	}
}
