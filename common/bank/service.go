package bank

import (
	"context"
	"time"
)

// Ledger stores accounts and applies deposits. Its methods have the shape
// of Bank's, but a Ledger may assume validated input: NewService checks
// every argument first. Deposit must apply the deposit and record its
// idempotency key, the request's fingerprint and the receipt in one atomic
// step (one transaction in a SQL store), and follow the idempotency rules:
// a repeat returns the stored receipt with Replayed set, a different
// request under the same key gets IdempotencyKeyReuse, a repeat while the
// first is being applied gets InFlight, and keys expire after the ledger's
// retention. An unknown account is NotFound. Statement returns the month's
// opening and closing balances and up to q.Limit+1 of the month's
// transactions after q.After, in (Time, ID) order (see StatementQuery);
// the Service makes the page and its token from them.
type Ledger interface {
	Balance(ctx context.Context, acc AccountNo) (Money, error)
	Statement(ctx context.Context, q StatementQuery) (Statement, error)
	Deposit(ctx context.Context, req DepositRequest) (DepositReceipt, error)
}

// Service is the reference Bank: it validates every request and hands it
// to a Ledger. Every server serves a Service (possibly wrapped).
type Service struct {
	ledger Ledger
}

// NewService returns the reference Bank over l.
func NewService(l Ledger) *Service { return &Service{ledger: l} }

// Balance implements Bank.
func (s *Service) Balance(ctx context.Context, acc AccountNo) (Money, error) {
	if err := ValidateAccount(acc); err != nil {
		return 0, err
	}
	return s.ledger.Balance(ctx, acc)
}

// Statement implements Bank.
func (s *Service) Statement(ctx context.Context, req StatementRequest) (Statement, error) {
	q, err := ValidateStatement(req)
	if err != nil {
		return Statement{}, err
	}
	st, err := s.ledger.Statement(ctx, q)
	if err != nil {
		return Statement{}, err
	}
	return page(st, q), nil
}

// Deposit implements Bank.
func (s *Service) Deposit(ctx context.Context, req DepositRequest) (DepositReceipt, error) {
	if err := ValidateDeposit(req); err != nil {
		return DepositReceipt{}, err
	}
	// A caller whose deadline has passed has given up: the deposit is not
	// applied, and the answer is deadline_exceeded, on every transport
	// (the deadline is read itself, since ctx.Err() may not say so yet).
	if err := ctx.Err(); err != nil {
		return DepositReceipt{}, FromContext(ctx, err)
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return DepositReceipt{}, &Error{Code: DeadlineExceeded, Message: "the deadline passed before the deposit was applied", Err: context.DeadlineExceeded}
	}
	return s.ledger.Deposit(ctx, req)
}
