package auth

import (
	"context"

	"github.com/igbank/igbank/common/bank"
)

// Authorize returns next behind the authorization rules (see the package
// documentation): every call needs a principal in its context
// (Authenticate), may touch only the accounts that principal may, and
// deposits with idempotency keys scoped to it.
//
// Keys are scoped with bank.ScopeKey (the principal, a separator the key
// alphabet cannot contain, the client's key), below the client's view:
// the client's key is validated as sent, the ledger stores the scoped
// one, and statements give back the client's key, or no key for a
// transaction another principal made.
func Authorize(next bank.Bank) bank.Bank { return authorizer{next} }

type authorizer struct{ next bank.Bank }

// allowed returns nil if p may use acc, and permission_denied otherwise,
// before anything about acc is looked up.
func allowed(p Principal, acc bank.AccountNo) error {
	if p == Teller {
		return nil
	}
	if own, ok := p.Account(); ok && own == acc {
		return nil
	}
	return bank.Errorf(bank.PermissionDenied, "%s may not use account %s", p, acc)
}

func (a authorizer) check(ctx context.Context, acc bank.AccountNo) (Principal, error) {
	p, err := principalOf(ctx)
	if err != nil {
		return "", err
	}
	return p, allowed(p, acc)
}

// Balance implements bank.Bank.
func (a authorizer) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if _, err := a.check(ctx, acc); err != nil {
		return 0, err
	}
	return a.next.Balance(ctx, acc)
}

// Statement implements bank.Bank: a transaction's key shows only to the
// principal that made it.
func (a authorizer) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	p, err := a.check(ctx, req.Account)
	if err != nil {
		return bank.Statement{}, err
	}
	st, err := a.next.Statement(ctx, req)
	for i := range st.Transactions {
		st.Transactions[i].IdempotencyKey = unscope(p, st.Transactions[i].IdempotencyKey)
	}
	return st, err
}

// Deposit implements bank.Bank, with the key scoped to the principal.
func (a authorizer) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	p, err := a.check(ctx, req.Account)
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	// The client's key is validated as the client sent it, so that the
	// limits and the error are the same as without authorization.
	if err := bank.ValidateKey(req.IdempotencyKey); err != nil {
		return bank.DepositReceipt{}, err
	}
	req.IdempotencyKey = bank.ScopeKey(string(p), req.IdempotencyKey)
	return a.next.Deposit(ctx, req)
}

// unscope returns the client's key of a scoped key that p made, and ""
// for any other.
func unscope(p Principal, key string) string {
	if k, ok := bank.UnscopeKey(string(p), key); ok {
		return k
	}
	return ""
}
