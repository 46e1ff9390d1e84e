// Package lab is what the workshop's graders share: a real raw-sockets
// server of the bank on 127.0.0.1, with the partial failures of
// common/fault beneath it, a counter of the calls that reached it, and a
// client connected to it. Students do not need to read it; it is here so
// that each grader says only what it checks.
package lab

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

// Accounts is how many accounts a lab server's ledger is seeded with.
const Accounts = 100

// Server is a bank served over raw TCP on loopback.
type Server struct {
	Addr string
	// Ledger is the bank behind every decorator: read it to see what
	// was really applied.
	Ledger bank.Bank
	// Faults breaks connections or answers unavailable as its plan says.
	Faults *fault.Bank
	// Failing answers every call with the error last Set (nil: passes
	// calls on); it is outside Faults.
	Failing *banktest.Failing
	// Calls counts the calls that reached the server, outermost.
	Calls *Counter
}

// Option configures Start.
type Option func(*config)

type config struct {
	plan       fault.Plan
	ignoreKeys bool
	decorate   func(bank.Bank) bank.Bank
}

// WithPlan injects the faults of plan (see common/fault).
func WithPlan(p fault.Plan) Option { return func(c *config) { c.plan = p } }

// IgnoringKeys serves a bank that applies every deposit, key or not
// (bank.IgnoreKeys): the server without idempotency.
func IgnoringKeys() Option { return func(c *config) { c.ignoreKeys = true } }

// Decorate puts d around the ledger's bank, inside the faults.
func Decorate(d func(bank.Bank) bank.Bank) Option { return func(c *config) { c.decorate = d } }

// Start serves a fresh ledger of Accounts accounts on 127.0.0.1 until the
// test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	var b bank.Bank = bank.NewService(ledger.NewMemory(Accounts))
	s := &Server{Ledger: b}
	if c.ignoreKeys {
		b = bank.IgnoreKeys(b)
	}
	if c.decorate != nil {
		b = c.decorate(b)
	}
	l, err := fault.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Faults = fault.Wrap(b, c.plan, l, func() {})
	s.Failing = &banktest.Failing{Bank: s.Faults}
	s.Calls = &Counter{Bank: s.Failing, start: time.Now()}
	banktest.ServeListener(t, rawbank.NewServer(s.Calls, rawbank.WithLogger(slog.New(slog.DiscardHandler))), l)
	s.Addr = l.Addr().String()
	return s
}

// Dial returns a new client of s, closed when the test ends.
func (s *Server) Dial(t testing.TB) bank.Bank {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rawbank.Dial(ctx, s.Addr, rawbank.WithConns(1))
	if err != nil {
		t.Fatalf("dial the lab server: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Context returns a context that ends after d or when the test ends.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Counter is a bank.Bank decorator that records when each call arrived.
type Counter struct {
	bank.Bank
	start time.Time

	mu       sync.Mutex
	arrivals []Arrival
}

// Arrival is one call that reached the server.
type Arrival struct {
	Op      bank.Op
	Account bank.AccountNo
	Key     string
	At      time.Duration // since the server started
}

func (c *Counter) record(op bank.Op, acc bank.AccountNo, key string) {
	c.mu.Lock()
	c.arrivals = append(c.arrivals, Arrival{op, acc, key, time.Since(c.start)})
	c.mu.Unlock()
}

// Arrivals returns the calls so far, in arrival order.
func (c *Counter) Arrivals() []Arrival {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Arrival(nil), c.arrivals...)
}

// N returns how many calls arrived so far.
func (c *Counter) N() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.arrivals)
}

// Balance implements bank.Bank.
func (c *Counter) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	c.record(bank.OpBalance, acc, "")
	return c.Bank.Balance(ctx, acc)
}

// Statement implements bank.Bank.
func (c *Counter) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	c.record(bank.OpStatement, req.Account, "")
	return c.Bank.Statement(ctx, req)
}

// Deposit implements bank.Bank.
func (c *Counter) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	c.record(bank.OpDeposit, req.Account, req.IdempotencyKey)
	return c.Bank.Deposit(ctx, req)
}

// Transactions returns this month's transactions of account i, read from
// the ledger itself (no transport, no faults).
func (s *Server) Transactions(t testing.TB, i int) []bank.Transaction {
	t.Helper()
	st, err := bank.ReadStatement(Context(t, 5*time.Second), s.Ledger, bank.StatementRequest{
		Account: ledger.SeedAccount(i), Month: bank.MonthOf(time.Now()), PageSize: bank.MaxPageSize})
	if err != nil {
		t.Fatalf("the grader could not read the ledger: %v", err)
	}
	return st.Transactions
}

// EveryOther is a fault plan: the response of every other deposit that
// reaches the server (the 1st, 3rd, 5th...) is lost after the deposit was
// applied, as when a connection breaks on its way back.
func EveryOther(kind fault.Kind) fault.Plan {
	return func(c fault.Call) fault.Kind {
		if c.Op == bank.OpDeposit && c.Deposit%2 == 1 {
			return kind
		}
		return fault.None
	}
}

// Script returns a decorator that answers the first calls with errs, one
// each, in order, and passes every later call on.
func Script(errs ...error) func(bank.Bank) bank.Bank {
	return func(next bank.Bank) bank.Bank { return &script{Bank: next, errs: errs} }
}

type script struct {
	bank.Bank
	mu   sync.Mutex
	errs []error
}

func (s *script) next() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

func (s *script) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if err := s.next(); err != nil {
		return 0, err
	}
	return s.Bank.Balance(ctx, acc)
}

func (s *script) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	if err := s.next(); err != nil {
		return bank.Statement{}, err
	}
	return s.Bank.Statement(ctx, req)
}

func (s *script) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if err := s.next(); err != nil {
		return bank.DepositReceipt{}, err
	}
	return s.Bank.Deposit(ctx, req)
}
