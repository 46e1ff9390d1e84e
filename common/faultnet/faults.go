package faultnet

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/igbank/igbank/common/bank"
)

// Fault is what Faults does to one call.
type Fault uint8

const (
	// None passes the call on.
	None Fault = iota
	// LoseRequest resets the connections before the call reaches the
	// bank: the server never processes it.
	LoseRequest
	// LoseResponse lets the bank process the call, then resets the
	// connections before the response can be written.
	LoseResponse
)

func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case LoseRequest:
		return "lose_request"
	case LoseResponse:
		return "lose_response"
	}
	return "fault?"
}

// Call describes a call to a Plan.
type Call struct {
	Op  bank.Op
	N   int64  // the call's number, from 1, counting every method
	Key string // a deposit's idempotency key as the client sent it
}

// Plan decides the fault of each call. It may be called concurrently.
type Plan func(Call) Fault

// Random loses requests with probability pRequest and responses with
// probability pResponse, from a seeded source, so a failing run can be
// repeated.
func Random(seed uint64, pRequest, pResponse float64) Plan {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(Call) Fault {
		mu.Lock()
		x := r.Float64()
		mu.Unlock()
		switch {
		case x < pRequest:
			return LoseRequest
		case x < pRequest+pResponse:
			return LoseResponse
		}
		return None
	}
}

// FirstDepositOfEachKey loses the response of the first attempt of every
// deposit (the first time its key is seen) and nothing else: the
// deterministic deposit-twice scenario.
func FirstDepositOfEachKey() Plan {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(c Call) Fault {
		if c.Op != bank.OpDeposit {
			return None
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[c.Key] {
			return None
		}
		seen[c.Key] = true
		return LoseResponse
	}
}

// Faults is a server-side decorator: it asks Plan about every call and
// breaks the connections of L at the moment the fault needs. Serve it with
// any transport on L (or on a listener wrapped by L).
type Faults struct {
	Next bank.Bank
	L    *Listener
	Plan Plan

	n             atomic.Int64
	lostRequests  atomic.Int64
	lostResponses atomic.Int64
}

// NewFaults returns a Faults over next that breaks the connections of l as
// plan says.
func NewFaults(next bank.Bank, l *Listener, plan Plan) *Faults {
	return &Faults{Next: next, L: l, Plan: plan}
}

// Lost returns how many requests and responses were lost so far.
func (f *Faults) Lost() (requests, responses int64) {
	return f.lostRequests.Load(), f.lostResponses.Load()
}

var errLostRequest = bank.Errorf(bank.Unavailable, "faultnet: request lost")

func (f *Faults) before(op bank.Op, key string) Fault {
	if f.Plan == nil {
		return None
	}
	fault := f.Plan(Call{Op: op, N: f.n.Add(1), Key: key})
	if fault == LoseRequest {
		f.lostRequests.Add(1)
		f.L.ResetAll()
	}
	return fault
}

func (f *Faults) after(fault Fault) {
	if fault == LoseResponse {
		f.lostResponses.Add(1)
		f.L.ResetAll()
	}
}

// Balance implements bank.Bank.
func (f *Faults) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	fault := f.before(bank.OpBalance, "")
	if fault == LoseRequest {
		return 0, errLostRequest
	}
	m, err := f.Next.Balance(ctx, acc)
	f.after(fault)
	return m, err
}

// Statement implements bank.Bank.
func (f *Faults) Statement(ctx context.Context, acc bank.AccountNo, month bank.Month) (bank.Statement, error) {
	fault := f.before(bank.OpStatement, "")
	if fault == LoseRequest {
		return bank.Statement{}, errLostRequest
	}
	st, err := f.Next.Statement(ctx, acc, month)
	f.after(fault)
	return st, err
}

// Deposit implements bank.Bank.
func (f *Faults) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	fault := f.before(bank.OpDeposit, req.IdempotencyKey)
	if fault == LoseRequest {
		return bank.DepositReceipt{}, errLostRequest
	}
	r, err := f.Next.Deposit(ctx, req)
	f.after(fault)
	return r, err
}
