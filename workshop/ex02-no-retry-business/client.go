// Package noretry is exercise 2 of the workshop: a client retries the
// calls that failed for want of availability, and never the answers of a
// server that is up, which a retry would only repeat.
package noretry

import (
	"context"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// Client calls next (a transport's client) and retries the calls that
// Retryable says may succeed if tried again.
type Client struct {
	next        bank.Bank
	MaxAttempts int           // the most attempts of one call (4)
	Backoff     time.Duration // the pause between attempts (2ms)
}

// NewClient returns a Client of next.
func NewClient(next bank.Bank) *Client {
	return &Client{next: next, MaxAttempts: 4, Backoff: 2 * time.Millisecond}
}

func retry[T any](ctx context.Context, c *Client, attempt func(context.Context) (T, error)) (T, error) {
	for n := 1; ; n++ {
		v, err := attempt(ctx)
		if err == nil || !Retryable(err) || n >= c.MaxAttempts || ctx.Err() != nil {
			return v, err
		}
		select {
		case <-time.After(c.Backoff):
		case <-ctx.Done():
			return v, bank.FromContext(ctx, ctx.Err())
		}
	}
}

// Balance returns the balance of acc.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	return retry(ctx, c, func(ctx context.Context) (bank.Money, error) { return c.next.Balance(ctx, acc) })
}

// Deposit makes the deposit req, which carries its idempotency key: every
// attempt sends the same one.
func (c *Client) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	return retry(ctx, c, func(ctx context.Context) (bank.DepositReceipt, error) { return c.next.Deposit(ctx, req) })
}
