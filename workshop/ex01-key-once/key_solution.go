//go:build solution

package keyonce

import (
	"context"

	"github.com/igbank/igbank/common/bank"
)

// Deposit makes one logical deposit of req, retrying it on availability
// failures. A caller may set req.IdempotencyKey; when it is empty, Deposit
// gives the deposit a key of its own.
func (c *Client) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	// The key is made before the retry loop, once per logical deposit:
	// every attempt carries it, so the server applies the deposit once
	// and answers the retries with the stored receipt.
	if req.IdempotencyKey == "" {
		req.IdempotencyKey = c.NewKey()
	}
	return retry(ctx, c, func(ctx context.Context) (bank.DepositReceipt, error) {
		return c.next.Deposit(ctx, req)
	})
}
