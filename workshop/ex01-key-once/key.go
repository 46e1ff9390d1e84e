//go:build !solution

package keyonce

import (
	"context"

	"github.com/igbank/igbank/common/bank"
)

// Deposit makes one logical deposit of req, retrying it on availability
// failures. A caller may set req.IdempotencyKey; when it is empty, Deposit
// gives the deposit a key of its own.
func (c *Client) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	return retry(ctx, c, func(ctx context.Context) (bank.DepositReceipt, error) {
		// TODO(student): this gives every attempt a new key, and throws
		// away the caller's. After a lost response the server cannot tell
		// the retry from a new deposit, and applies it again. Give each
		// logical deposit its key once, keeping the caller's if it has one.
		req.IdempotencyKey = c.NewKey()
		return c.next.Deposit(ctx, req)
	})
}
