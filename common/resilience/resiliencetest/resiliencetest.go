// Package resiliencetest proves the client layers of package resilience
// over a real transport: a real server on a loopback fault listener, the
// transport's real client, and faults injected at the connection level. Run
// checks that N logical deposits through resilience.Wrap apply exactly N
// deposits under lost requests, lost responses and reset connections, and
// shows the double deposit that the same faults cause when the server
// ignores idempotency keys. Every transport runs it, through the load
// generator's registry.
package resiliencetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// Accounts is how many accounts the suite's ledgers hold.
const Accounts = 10

// Run runs the suite against the transport of newServer and dial.
func Run(t *testing.T, newServer transport.NewServerFunc, dial transport.DialFunc) {
	s := &suite{newServer: newServer, dial: dial}
	t.Run("ExactlyOnceUnderLostRequestsAndResponses", s.testLoss)
	t.Run("ExactlyOnceUnderConnectionFaults", s.testConnFaults)
	t.Run("LostResponsesWithKeysAreReplayed", s.testReplayed)
	t.Run("DoubleDepositWithoutIdempotency", s.testDoubleDeposit)
	t.Run("BreakerFailsFastWhenServerIsDown", s.testServerDown)
}

type suite struct {
	newServer transport.NewServerFunc
	dial      transport.DialFunc
}

// rig is one server on a fault listener, the ledger behind it, and a
// client of it.
type rig struct {
	ledger bank.Bank // the server's bank without faults: the truth
	l      *fault.Listener
	faults *fault.Bank
	client transport.Client
	stop   func()
}

// start serves a fresh ledger (with keys ignored if ignoreKeys) behind
// Faults with plan, and dials it.
func (s *suite) start(t *testing.T, plan fault.Plan, ignoreKeys bool) *rig {
	t.Helper()
	svc := bank.NewService(ledger.NewMemory(Accounts))
	var served bank.Bank = svc
	if ignoreKeys {
		served = bank.IgnoreKeys(svc)
	}
	l, err := fault.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := fault.Wrap(served, plan, l, nil)
	stop := banktest.ServeListener(t, s.newServer(f), l)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.dial(ctx, l.Addr().String())
	if err != nil {
		t.Fatalf("dial %s: %v", l.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return &rig{ledger: svc, l: l, faults: f, client: c, stop: stop}
}

// layers wraps c for a link that loses a good share of its calls: many
// attempts, delays that start short but grow to bridge a client's own
// reconnect backoff (grpc-go fails calls fast for 1s after a failed
// handshake), a per-attempt timeout in case a transport does not notice a
// reset, no budget (at these loss rates the budget would rightly stop
// retrying: see TestBudgetCapsRetriesInOutage) and a breaker that does not
// trip on them.
func layers(c bank.Bank, st *resilience.Stats) bank.Bank {
	return resilience.Wrap(c,
		resilience.WithRetry(resilience.RetryPolicy{
			MaxAttempts:    40,
			InitialBackoff: time.Millisecond,
			MaxBackoff:     250 * time.Millisecond,
			AttemptTimeout: 3 * time.Second,
		}),
		resilience.WithoutBudget(),
		resilience.WithBreaker(resilience.BreakerSettings{ConsecutiveFailures: 1000}),
		resilience.WithStats(st))
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// deposits makes workers×each logical deposits to acc through b, without
// idempotency keys (the layer makes them), and returns the receipts and
// the sum deposited.
func deposits(t *testing.T, b bank.Bank, acc bank.AccountNo, workers, each int, between func()) ([]bank.DepositReceipt, bank.Money) {
	t.Helper()
	var mu sync.Mutex
	var receipts []bank.DepositReceipt
	var sum bank.Money
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if between != nil {
					between()
				}
				amount := bank.Money(100 + w*each + i)
				r, err := b.Deposit(callCtx(t), bank.DepositRequest{Account: acc, Amount: amount})
				if err != nil {
					t.Errorf("logical deposit %d/%d failed through the layers: %v", w, i, err)
					return
				}
				mu.Lock()
				receipts = append(receipts, r)
				sum += amount
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return receipts, sum
}

// Check verifies the exactly-once property against the ledger itself:
// acc got exactly n transactions adding up to sum, no key twice, and each
// receipt names one of them, once, with the same balance. Exported for
// tests that build their own rigs.
func Check(t testing.TB, truth bank.Bank, acc bank.AccountNo, n int, sum bank.Money, receipts []bank.DepositReceipt) {
	t.Helper()
	applied, grew, err := Applied(truth, acc)
	if err != nil {
		t.Fatal(err)
	}
	if applied != n || grew != sum {
		t.Fatalf("ledger: %d deposits applied adding %d cents; want exactly %d adding %d", applied, grew, n, sum)
	}
	st, _ := statement(truth, acc)
	byID := map[int64]bank.Transaction{}
	keys := map[string]bool{}
	for _, tx := range st.Transactions {
		if keys[tx.IdempotencyKey] {
			t.Fatalf("idempotency key %q applied twice", tx.IdempotencyKey)
		}
		keys[tx.IdempotencyKey] = true
		byID[tx.ID] = tx
	}
	acked := map[int64]bool{}
	for _, r := range receipts {
		tx, ok := byID[r.TransactionID]
		switch {
		case !ok:
			t.Fatalf("receipt %+v names no transaction in the statement", r)
		case acked[r.TransactionID]:
			t.Fatalf("transaction %d acknowledged twice", r.TransactionID)
		case tx.BalanceAfter != r.Balance:
			t.Fatalf("receipt %+v disagrees with the statement's %+v", r, tx)
		}
		acked[r.TransactionID] = true
	}
}

func statement(b bank.Bank, acc bank.AccountNo) (bank.Statement, error) {
	return bank.ReadStatement(context.Background(), b, bank.StatementRequest{Account: acc, Month: bank.MonthOf(time.Now()), PageSize: bank.MaxPageSize})
}

// Applied returns how many deposits the ledger applied to acc this month
// and how much they added.
func Applied(truth bank.Bank, acc bank.AccountNo) (int, bank.Money, error) {
	st, err := statement(truth, acc)
	if err != nil {
		return 0, 0, err
	}
	i, _ := ledger.SeedIndex(acc)
	if len(st.Transactions) == 0 {
		return 0, 0, nil
	}
	return len(st.Transactions), st.Closing - ledger.SeedBalance(i), nil
}

// readsAgree checks that Balance and Statement through b, under the same
// faults, return what the ledger holds.
func readsAgree(t *testing.T, b bank.Bank, truth bank.Bank, acc bank.AccountNo, n int) {
	t.Helper()
	want, err := truth.Balance(context.Background(), acc)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		got, err := b.Balance(callCtx(t), acc)
		if err != nil || got != want {
			t.Fatalf("Balance through the layers = %d, %v; want %d", got, err, want)
		}
	}
	st, err := b.Statement(callCtx(t), bank.StatementRequest{Account: acc, Month: bank.MonthOf(time.Now())})
	if err != nil || st.Closing != want {
		t.Fatalf("Statement through the layers: closing %d, %v; want %d", st.Closing, err, want)
	}
}

func (s *suite) testLoss(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := s.start(t, fault.Random(seed, 0.15, 0.15), false)
	var st resilience.Stats
	b := layers(r.client, &st)
	acc := ledger.SeedAccount(1)
	receipts, sum := deposits(t, b, acc, 4, 12, nil)
	if t.Failed() {
		return
	}
	readsAgree(t, b, r.ledger, acc, 10)
	lr, lp := r.faults.Lost()
	Check(t, r.ledger, acc, len(receipts), sum, receipts)
	t.Logf("seed %d: %d logical deposits, %d lost requests, %d lost responses, %d attempts, %d retries: exactly once",
		seed, len(receipts), lr, lp, st.Attempts.Load(), st.Retries.Load())
	if lr == 0 || lp == 0 {
		t.Logf("note: this seed lost no %s", map[bool]string{true: "requests", false: "responses"}[lr == 0])
	}
}

func (s *suite) testConnFaults(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := s.start(t, nil, false)
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(seed, 3))
	var armed [3]int
	between := func() {
		mu.Lock()
		defer mu.Unlock()
		switch x := rnd.IntN(10); x {
		case 0:
			r.l.DropNextRead()
			armed[0]++
		case 1:
			r.l.DropNextWrite()
			armed[1]++
		case 2:
			r.l.ResetAll()
			armed[2]++
		}
	}
	var st resilience.Stats
	b := layers(r.client, &st)
	acc := ledger.SeedAccount(2)
	receipts, sum := deposits(t, b, acc, 2, 20, between)
	if t.Failed() {
		return
	}
	r.l.Disarm()
	Check(t, r.ledger, acc, len(receipts), sum, receipts)
	t.Logf("seed %d: %d logical deposits; armed %d dropped reads, %d dropped writes, %d resets; %d connections reset; %d retries: exactly once",
		seed, len(receipts), armed[0], armed[1], armed[2], r.l.Resets(), st.Retries.Load())
}

// firstResponsesLost makes n deposits into acc through the layers against
// a server that loses the first response of every deposit, honouring
// idempotency keys or ignoring them.
func (s *suite) firstResponsesLost(t *testing.T, acc bank.AccountNo, n int, ignoreKeys bool) (r *rig, st *resilience.Stats, receipts []bank.DepositReceipt, sum bank.Money) {
	r = s.start(t, fault.FirstDepositOfEachKey(), ignoreKeys)
	st = new(resilience.Stats)
	receipts, sum = deposits(t, layers(r.client, st), acc, 1, n, nil)
	return r, st, receipts, sum
}

// testReplayed: every deposit's first response is lost; the layers retry
// with the same key and the server replays the stored receipt.
func (s *suite) testReplayed(t *testing.T) {
	acc := ledger.SeedAccount(3)
	const n = 10
	r, st, receipts, sum := s.firstResponsesLost(t, acc, n, false)
	if t.Failed() {
		return
	}
	Check(t, r.ledger, acc, n, sum, receipts)
	for _, rc := range receipts {
		if !rc.Replayed {
			t.Fatalf("receipt %+v after a lost response is not marked replayed", rc)
		}
	}
	_, lost := r.faults.Lost()
	t.Logf("%d deposits, %d responses lost after the deposit was applied, %d retries: each applied once, each receipt a replay", n, lost, st.Retries.Load())
}

// testDoubleDeposit: the same faults against a server that ignores
// idempotency keys apply deposits twice. This is the bug the keys fix.
func (s *suite) testDoubleDeposit(t *testing.T) {
	acc := ledger.SeedAccount(4)
	const n = 10
	r, _, receipts, sum := s.firstResponsesLost(t, acc, n, true)
	if t.Failed() {
		return
	}
	applied, grew, err := Applied(r.ledger, acc)
	if err != nil {
		t.Fatal(err)
	}
	if applied <= n || grew <= sum {
		t.Fatalf("keys ignored, every first response lost: %d deposits applied adding %d cents; want more than %d adding more than %d (the double deposit)",
			applied, grew, n, sum)
	}
	t.Logf("idempotency off: %d logical deposits of %s in total were applied %d times, adding %s: the double deposit (%d receipts)",
		n, sum, applied, grew, len(receipts))
}

// testServerDown: once the server is gone every call fails with a typed
// availability error, and after the threshold the breaker fails calls fast
// without touching the network.
func (s *suite) testServerDown(t *testing.T) {
	r := s.start(t, nil, false)
	var st resilience.Stats
	b := resilience.Wrap(r.client,
		resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, AttemptTimeout: 2 * time.Second}),
		resilience.WithBreaker(resilience.BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: time.Minute}),
		resilience.WithStats(&st))
	acc := ledger.SeedAccount(5)
	if _, err := b.Balance(callCtx(t), acc); err != nil {
		t.Fatalf("Balance before the outage: %v", err)
	}
	r.stop()
	var last error
	for i := 0; i < 10 && !errors.Is(last, resilience.ErrBreakerOpen); i++ {
		_, last = b.Balance(callCtx(t), acc)
		if last == nil {
			t.Fatal("Balance succeeded with the server shut down")
		}
		if !resilience.IsAvailabilityFailure(last) {
			t.Fatalf("call %d with the server down: %v (code %v), want unavailable or deadline exceeded", i+1, last, bank.CodeOf(last))
		}
	}
	if !errors.Is(last, resilience.ErrBreakerOpen) || !errors.Is(last, bank.ErrUnavailable) {
		t.Fatalf("breaker did not open: last error %v", last)
	}
	attempts := st.Attempts.Load()
	for i := 0; i < 5; i++ {
		if _, err := b.Deposit(callCtx(t), bank.DepositRequest{Account: acc, Amount: 1}); !errors.Is(err, resilience.ErrBreakerOpen) {
			t.Fatalf("open breaker: %v, want fail-fast", err)
		}
	}
	if got := st.Attempts.Load() - attempts; got != 5 {
		t.Fatalf("%d attempts for 5 calls against an open breaker, want 5 (one fail-fast each)", got)
	}
	t.Log(fmt.Sprintf("server down: breaker opened after %d attempts, then failed fast", attempts))
}
