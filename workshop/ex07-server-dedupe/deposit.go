//go:build !solution

package dedupe

import (
	"context"

	"github.com/igbank/igbank/common/bank"
)

// Deposit implements bank.Bank: it applies req once per idempotency key.
func (d *Dedupe) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	// TODO(student): this passes every deposit on, so a retry after a
	// lost response is applied again. Look req.IdempotencyKey up in
	// d.keys (under d.mu) and follow the rules of the Dedupe type. Do
	// not hold d.mu while d.Bank.Deposit runs: deposits of other keys
	// must not wait for this one.
	return d.Bank.Deposit(ctx, req)
}
