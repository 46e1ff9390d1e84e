package bank

import (
	"context"
	"crypto/rand"
)

// IgnoreKeys returns b with idempotency turned off: every deposit is given
// a fresh key of its own before it reaches b, so a retried deposit is
// applied again. It is the bug the partial-failure lab starts from (a
// server run with -idempotency=off), kept here so that every transport's
// server can show it; never use it otherwise.
func IgnoreKeys(b Bank) Bank { return ignoreKeys{b} }

type ignoreKeys struct{ Bank }

// Deposit implements Bank.
func (i ignoreKeys) Deposit(ctx context.Context, req DepositRequest) (DepositReceipt, error) {
	req.IdempotencyKey = "nokey-" + rand.Text()
	return i.Bank.Deposit(ctx, req)
}
