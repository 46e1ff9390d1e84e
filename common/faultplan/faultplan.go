// Package faultplan is a server-side decorator for the faults that need
// the server's cooperation: a server that reads a deposit request and dies
// before applying it (crash-before-apply), and one that applies it and
// dies before answering (crash-after-apply). "Dies" is a Die function: in
// a server process, Kill (SIGKILL to itself, TerminateProcess on Windows,
// so nothing is flushed or answered); in a test, anything that stops an
// in-process server.
//
// A Plan is parsed from the text "loadtest serve -fault" takes:
//
//	crash-after-apply        die on the first deposit
//	crash-after-apply:3      die on the third deposit this process sees
//	crash-before-apply:p=0.1,seed=7
//	                         die on each deposit with probability 0.1, from a seeded source
//
// Deposits are counted per process (per Wrap), retries included, so a
// harness that restarts a killed server with the same plan makes it die
// again after as many deposits; restarted without a plan, it runs clean.
package faultplan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/igbank/igbank/common/bank"
)

// Kind is when the server dies.
type Kind uint8

const (
	// None never dies.
	None Kind = iota
	// CrashBeforeApply dies after the request was read and decoded,
	// before the bank applies the deposit.
	CrashBeforeApply
	// CrashAfterApply dies after the bank applied the deposit, before the
	// receipt is answered.
	CrashAfterApply
)

var kindNames = [...]string{None: "none", CrashBeforeApply: "crash-before-apply", CrashAfterApply: "crash-after-apply"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Plan says on which deposit a server dies, and when.
type Plan struct {
	Kind Kind
	// Nth is the deposit (from 1, retries included) the server dies on,
	// when P is 0. 0 means 1.
	Nth int64
	// P, if positive, makes every deposit die with probability P instead,
	// drawn from a source seeded with Seed.
	P    float64
	Seed uint64
}

// String is the plan as Parse reads it.
func (p Plan) String() string {
	switch {
	case p.Kind == None:
		return "none"
	case p.P > 0:
		return fmt.Sprintf("%s:p=%s,seed=%d", p.Kind, strconv.FormatFloat(p.P, 'g', -1, 64), p.Seed)
	case p.Nth > 1:
		return fmt.Sprintf("%s:%d", p.Kind, p.Nth)
	}
	return p.Kind.String()
}

// Parse reads a plan: "none" (or ""), KIND, KIND:N or
// KIND:p=P[,seed=S], with KIND crash-before-apply or crash-after-apply.
func Parse(s string) (Plan, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return Plan{}, nil
	}
	name, arg, hasArg := strings.Cut(s, ":")
	var p Plan
	for k, n := range kindNames {
		if k != int(None) && n == name {
			p.Kind = Kind(k)
		}
	}
	if p.Kind == None {
		return Plan{}, fmt.Errorf("fault %q: want crash-before-apply or crash-after-apply, optionally :N or :p=P,seed=S", s)
	}
	if !hasArg {
		return p, nil
	}
	if n, err := strconv.ParseInt(arg, 10, 64); err == nil {
		if n < 1 {
			return Plan{}, fmt.Errorf("fault %q: the deposit number must be 1 or more", s)
		}
		p.Nth = n
		return p, nil
	}
	for _, kv := range strings.Split(arg, ",") {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "p":
			p.P, err = strconv.ParseFloat(v, 64)
			if err == nil && !(p.P > 0 && p.P <= 1) {
				err = fmt.Errorf("%v is not a probability in (0, 1]", p.P)
			}
		case "seed":
			p.Seed, err = strconv.ParseUint(v, 10, 64)
		default:
			err = fmt.Errorf("unknown parameter %q", k)
		}
		if err != nil {
			return Plan{}, fmt.Errorf("fault %q: %v", s, err)
		}
	}
	if p.P == 0 {
		return Plan{}, fmt.Errorf("fault %q: p=P is required with seed", s)
	}
	return p, nil
}

// ErrDead is what a Wrap answers once it has died (its Die returned, as an
// in-process Die does): a dead server answers nothing.
var ErrDead = bank.Errorf(bank.Unavailable, "faultplan: the server died")

// Server is a bank that dies as its Plan says.
type Server struct {
	next bank.Bank
	plan Plan
	die  func()

	n    atomic.Int64
	dead atomic.Bool
	mu   sync.Mutex
	rnd  *rand.Rand
}

// Wrap returns next with plan applied; die is called when the plan
// strikes (Kill in a server process). A nil die is Kill.
func Wrap(next bank.Bank, plan Plan, die func()) *Server {
	if die == nil {
		die = Kill
	}
	s := &Server{next: next, plan: plan, die: die}
	if plan.P > 0 {
		s.rnd = rand.New(rand.NewPCG(plan.Seed, plan.Seed^0x9e3779b97f4a7c15))
	}
	return s
}

// Dead reports whether the plan has struck.
func (s *Server) Dead() bool { return s.dead.Load() }

// Deposits returns how many deposits reached the server.
func (s *Server) Deposits() int64 { return s.n.Load() }

func (s *Server) strikes() bool {
	n := s.n.Add(1)
	switch {
	case s.plan.Kind == None:
		return false
	case s.rnd != nil:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.rnd.Float64() < s.plan.P
	}
	return n == max(s.plan.Nth, 1)
}

func (s *Server) kill() {
	s.dead.Store(true)
	s.die()
}

// Balance implements bank.Bank.
func (s *Server) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if s.dead.Load() {
		return 0, ErrDead
	}
	return s.next.Balance(ctx, acc)
}

// Statement implements bank.Bank.
func (s *Server) Statement(ctx context.Context, acc bank.AccountNo, m bank.Month) (bank.Statement, error) {
	if s.dead.Load() {
		return bank.Statement{}, ErrDead
	}
	return s.next.Statement(ctx, acc, m)
}

// Deposit implements bank.Bank: it dies before or after applying the
// deposit when the plan says so.
func (s *Server) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if s.dead.Load() {
		return bank.DepositReceipt{}, ErrDead
	}
	if !s.strikes() {
		return s.next.Deposit(ctx, req)
	}
	if s.plan.Kind == CrashBeforeApply {
		s.kill()
		return bank.DepositReceipt{}, ErrDead
	}
	_, err := s.next.Deposit(ctx, req)
	if err != nil {
		// Nothing was applied; the plan waits for a deposit that is.
		s.n.Add(-1)
		return bank.DepositReceipt{}, err
	}
	s.kill()
	return bank.DepositReceipt{}, ErrDead
}
