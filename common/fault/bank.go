package fault

import (
	"context"
	"sync/atomic"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/process"
)

// Bank is the server-side decorator: it asks its Plan about every call and
// breaks the connections of its Listener, or dies, at the moment the fault
// needs. Serve it with any transport on that Listener.
type Bank struct {
	next  bank.Bank
	plan  Plan
	conns *Listener
	die   func()

	calls         atomic.Int64
	deposits      atomic.Int64
	lostRequests  atomic.Int64
	lostResponses atomic.Int64
	dead          atomic.Bool
}

// Wrap returns next with plan applied (a nil plan passes every call on).
// The lost requests and responses reset the connections of conns, which
// must be the listener the bank is served on; the crashes call die (nil:
// process.KillSelf, the end of this process), after which the bank answers every call
// with ErrDead, as a dead server answers nothing.
func Wrap(next bank.Bank, plan Plan, conns *Listener, die func()) *Bank {
	if die == nil {
		die = process.KillSelf
	}
	return &Bank{next: next, plan: plan, conns: conns, die: die}
}

// Lost returns how many requests and responses were lost so far.
func (f *Bank) Lost() (requests, responses int64) {
	return f.lostRequests.Load(), f.lostResponses.Load()
}

// Dead reports whether a crash has struck.
func (f *Bank) Dead() bool { return f.dead.Load() }

// Deposits returns how many deposits reached the bank.
func (f *Bank) Deposits() int64 { return f.deposits.Load() }

// ErrDead is what a Bank answers once it has died (its die returned, as an
// in-process die does).
var ErrDead = bank.Errorf(bank.Unavailable, "fault: the server died")

var errLostRequest = bank.Errorf(bank.Unavailable, "fault: request lost")

func (f *Bank) resetConns() {
	if f.conns != nil {
		f.conns.ResetAll()
	}
}

func (f *Bank) kill() {
	f.dead.Store(true)
	f.die()
}

// do runs one call of op through the plan: call is the bank's method.
func do[T any](f *Bank, op bank.Op, key string, call func() (T, error)) (T, error) {
	var zero T
	if f.dead.Load() {
		return zero, ErrDead
	}
	c := Call{Op: op, N: f.calls.Add(1), Key: key}
	if op == bank.OpDeposit {
		c.Deposit = f.deposits.Add(1)
	}
	kind := None
	if f.plan != nil {
		kind = f.plan(c)
	}
	switch kind {
	case LoseRequest:
		f.lostRequests.Add(1)
		f.resetConns()
		return zero, errLostRequest
	case CrashBeforeApply:
		f.kill()
		return zero, ErrDead
	}
	v, err := call()
	switch kind {
	case LoseResponse:
		f.lostResponses.Add(1)
		f.resetConns()
	case CrashAfterApply:
		if err != nil {
			// Nothing was applied; the plan waits for a deposit that is.
			if op == bank.OpDeposit {
				f.deposits.Add(-1)
			}
			return zero, err
		}
		f.kill()
		return zero, ErrDead
	}
	return v, err
}

// Balance implements bank.Bank.
func (f *Bank) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	return do(f, bank.OpBalance, "", func() (bank.Money, error) { return f.next.Balance(ctx, acc) })
}

// Statement implements bank.Bank.
func (f *Bank) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	return do(f, bank.OpStatement, "", func() (bank.Statement, error) { return f.next.Statement(ctx, req) })
}

// Deposit implements bank.Bank.
func (f *Bank) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	return do(f, bank.OpDeposit, req.IdempotencyKey, func() (bank.DepositReceipt, error) { return f.next.Deposit(ctx, req) })
}
