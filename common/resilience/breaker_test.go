package resilience

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/sony/gobreaker/v2"
)

// switchable is a target that is up or down as the test says, and counts
// the calls that reached it.
type switchable struct {
	mu    sync.Mutex
	err   error
	calls int
}

func (s *switchable) set(err error) { s.mu.Lock(); s.err = err; s.mu.Unlock() }
func (s *switchable) reached() int  { s.mu.Lock(); defer s.mu.Unlock(); return s.calls }

func (s *switchable) do() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.err
}

func (s *switchable) Balance(context.Context, bank.AccountNo) (bank.Money, error) {
	return 7, s.do()
}
func (s *switchable) Statement(context.Context, bank.StatementRequest) (bank.Statement, error) {
	return bank.Statement{}, s.do()
}
func (s *switchable) Deposit(context.Context, bank.DepositRequest) (bank.DepositReceipt, error) {
	return bank.DepositReceipt{}, s.do()
}

// stateLog records the breaker's state changes.
type stateLog struct {
	mu  sync.Mutex
	log []string
}

func (l *stateLog) hook(from, to BreakerState) {
	l.mu.Lock()
	l.log = append(l.log, from.String()+">"+to.String())
	l.mu.Unlock()
}

func (l *stateLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ""
	for i, e := range l.log {
		if i > 0 {
			s += " "
		}
		s += e
	}
	return s
}

// openTimeout is long enough that a loaded machine does not reach it
// between two statements of a test, short enough to wait for.
const openTimeout = 200 * time.Millisecond

// waitHalfOpen sleeps past the open timeout. gobreaker reads the real
// clock, so this test waits for real (a few tens of milliseconds).
func waitHalfOpen() { time.Sleep(openTimeout + 50*time.Millisecond) }

func TestBreakerLifecycle(t *testing.T) {
	target := &switchable{}
	var log stateLog
	var st Stats
	b := Wrap(target, WithoutRetry(), WithStats(&st), WithHooks(Hooks{StateChange: log.hook}),
		WithBreaker(BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: openTimeout}))
	ctx := context.Background()

	// Business errors and cancellations are not failures.
	target.set(bank.Errorf(bank.NotFound, "no"))
	for i := 0; i < 10; i++ {
		b.Balance(ctx, "000000001")
	}
	target.set(bank.Errorf(bank.Canceled, "caller gave up"))
	for i := 0; i < 10; i++ {
		b.Balance(ctx, "000000001")
	}
	if log.String() != "" {
		t.Fatalf("breaker changed state on business errors and cancellations: %s", log.String())
	}

	// Three availability failures in a row open it.
	target.set(errDown)
	for i := 0; i < 3; i++ {
		if _, err := b.Balance(ctx, "000000001"); !errors.Is(err, bank.ErrUnavailable) || isBreakerRejection(err) {
			t.Fatalf("failure %d: %v, want the target's unavailable", i+1, err)
		}
	}
	if log.String() != "closed>open" {
		t.Fatalf("states %q, want closed>open", log.String())
	}

	// Open: fail fast, the target is not called, the error is typed.
	before := target.reached()
	for i := 0; i < 5; i++ {
		_, err := b.Deposit(ctx, bank.DepositRequest{Account: "000000001", Amount: 1, IdempotencyKey: "k"})
		if !errors.Is(err, bank.ErrUnavailable) || !errors.Is(err, gobreaker.ErrOpenState) || !errors.Is(err, ErrBreakerOpen) {
			t.Fatalf("open breaker returned %v, want unavailable wrapping gobreaker.ErrOpenState", err)
		}
	}
	if target.reached() != before {
		t.Fatalf("open breaker let %d calls through", target.reached()-before)
	}

	// Half open after the timeout: a failed probe opens it again.
	waitHalfOpen()
	if _, err := b.Balance(ctx, "000000001"); !errors.Is(err, bank.ErrUnavailable) || isBreakerRejection(err) {
		t.Fatalf("probe: %v, want the target's own failure", err)
	}
	if got := log.String(); got != "closed>open open>half-open half-open>open" {
		t.Fatalf("states %q after a failed probe", got)
	}
	if _, err := b.Balance(ctx, "000000001"); !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("after a failed probe: %v, want fail-fast", err)
	}

	// Half open again; a good probe closes it.
	target.set(nil)
	waitHalfOpen()
	if m, err := b.Balance(ctx, "000000001"); err != nil || m != 7 {
		t.Fatalf("probe: %v, %v", m, err)
	}
	want := "closed>open open>half-open half-open>open open>half-open half-open>closed"
	if got := log.String(); got != want {
		t.Fatalf("states %q, want %q", got, want)
	}
	if st.BreakerOpened.Load() != 2 || st.BreakerClosed.Load() != 1 || st.BreakerRejected.Load() != 6 {
		t.Fatalf("stats opened %d closed %d rejected %d; want 2 1 6",
			st.BreakerOpened.Load(), st.BreakerClosed.Load(), st.BreakerRejected.Load())
	}
}

func TestBreakerHalfOpenLetsOnlyProbesThrough(t *testing.T) {
	target := &blocking{release: make(chan struct{}), entered: make(chan struct{}, 10)}
	b := Wrap(target, WithoutRetry(), WithBreaker(BreakerSettings{ConsecutiveFailures: 1, OpenTimeout: openTimeout, HalfOpenProbes: 2}))
	target.fail = true
	b.Balance(context.Background(), "000000001") // opens
	waitHalfOpen()
	target.fail = false
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); b.Balance(context.Background(), "000000001") }()
		<-target.entered
	}
	// Two probes are in flight: a third call fails fast.
	if _, err := b.Balance(context.Background(), "000000001"); !errors.Is(err, gobreaker.ErrTooManyRequests) || !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("third call while probing: %v", err)
	}
	close(target.release)
	wg.Wait()
	if _, err := b.Balance(context.Background(), "000000001"); err != nil {
		t.Fatalf("after two good probes: %v, want closed", err)
	}
}

// blocking holds successful calls until release is closed.
type blocking struct {
	switchable
	fail    bool
	entered chan struct{}
	release chan struct{}
}

func (b *blocking) Balance(context.Context, bank.AccountNo) (bank.Money, error) {
	if b.fail {
		return 0, errDown
	}
	b.entered <- struct{}{}
	<-b.release
	return 1, nil
}

func TestBreakerFailureRatio(t *testing.T) {
	target := &switchable{}
	var log stateLog
	b := Wrap(target, WithoutRetry(), WithHooks(Hooks{StateChange: log.hook}),
		WithBreaker(BreakerSettings{FailureRatio: 0.5, MinRequests: 10, Window: time.Minute, OpenTimeout: time.Minute}))
	ctx := context.Background()
	// Alternate: 50% failures, never more than one in a row. Nine calls
	// are under MinRequests; the tenth trips it.
	for i := 0; i < 9; i++ {
		if i%2 == 0 {
			target.set(errDown)
		} else {
			target.set(nil)
		}
		b.Balance(ctx, "000000001")
	}
	if log.String() != "" {
		t.Fatalf("opened before MinRequests: %s", log.String())
	}
	target.set(nil)
	b.Balance(ctx, "000000001") // 10 calls, 5 failures: but a success does not trip
	target.set(errDown)
	b.Balance(ctx, "000000001") // 11 calls, 6 failures
	if log.String() != "closed>open" {
		t.Fatalf("states %q, want closed>open at 6 failures in 11", log.String())
	}
}

// TestRetryStopsAtOpenBreaker: with retry outside the breaker, an open
// breaker ends a call's retries at once, without sleeping.
func TestRetryStopsAtOpenBreaker(t *testing.T) {
	clk := newFakeClock()
	f := &flaky{clock: clk, fail: always(errDown)}
	var st Stats
	b := Wrap(f, WithClock(clk), WithStats(&st), WithoutBudget(),
		WithRetry(RetryPolicy{MaxAttempts: 10}),
		WithBreaker(BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: time.Minute}))
	_, err := b.Balance(context.Background(), "000000001")
	if !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("err = %v, want the open breaker's", err)
	}
	if n := len(f.seen()); n != 3 {
		t.Fatalf("target saw %d attempts, want 3 (then the breaker opened)", n)
	}
	if st.Attempts.Load() != 4 || st.Retries.Load() != 3 {
		t.Fatalf("attempts %d retries %d; want 4 (the 4th failed fast) and 3", st.Attempts.Load(), st.Retries.Load())
	}
	// The next call fails fast on its first attempt, with no sleep.
	sleeps := len(clk.sleeps())
	if _, err := b.Balance(context.Background(), "000000001"); !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("err = %v", err)
	}
	if len(clk.sleeps()) != sleeps || len(f.seen()) != 3 {
		t.Fatal("a call retried against an open breaker")
	}
}

// TestBreakerCountsOnlyConsecutiveFailures: failures separated by
// successes never trip the consecutive rule, whether the successes take
// the fast path or not; the threshold in a row does.
func TestBreakerCountsOnlyConsecutiveFailures(t *testing.T) {
	target := &switchable{}
	var log stateLog
	b := Wrap(target, WithoutRetry(), WithHooks(Hooks{StateChange: log.hook}),
		WithBreaker(BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: time.Minute}))
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		for j := 0; j < 2; j++ { // two failures, then successes
			target.set(errDown)
			b.Balance(ctx, "000000001")
		}
		target.set(nil)
		for j := 0; j <= i%3; j++ {
			if _, err := b.Balance(ctx, "000000001"); err != nil {
				t.Fatalf("round %d: %v (states %s)", i, err, log.String())
			}
		}
	}
	if log.String() != "" {
		t.Fatalf("tripped on failures that were never 3 in a row: %s", log.String())
	}
	target.set(errDown)
	for j := 0; j < 3; j++ {
		b.Balance(ctx, "000000001")
	}
	if log.String() != "closed>open" {
		t.Fatalf("states %q after 3 failures in a row, want closed>open", log.String())
	}
}

// TestBreakerConcurrentOutage: many goroutines, a target that goes down
// and comes back; the breaker opens, fails fast, and closes again. Run
// with -race, it checks the fast path's bookkeeping.
func TestBreakerConcurrentOutage(t *testing.T) {
	target := &switchable{}
	var st Stats
	b := Wrap(target, WithoutRetry(), WithStats(&st),
		WithBreaker(BreakerSettings{ConsecutiveFailures: 5, OpenTimeout: 20 * time.Millisecond}))
	run := func() {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					b.Balance(context.Background(), "000000001")
				}
			}()
		}
		wg.Wait()
	}
	run()
	target.set(errDown)
	run()
	if st.BreakerOpened.Load() == 0 || st.BreakerRejected.Load() == 0 {
		t.Fatalf("outage: opened %d, rejected %d", st.BreakerOpened.Load(), st.BreakerRejected.Load())
	}
	target.set(nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := b.Balance(context.Background(), "000000001"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("breaker did not close within 5s of the target coming back")
		}
		time.Sleep(5 * time.Millisecond)
	}
	run()
	if _, err := b.Balance(context.Background(), "000000001"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// A business error is an answer, never a failure of the target, on every
// path a call takes through the breaker: the fast path of a clean closed
// breaker, the path through gobreaker once a failure was seen (where its
// IsSuccessful decides), the half-open probe, and the failure-ratio rule
// (always through gobreaker). Each case would trip or reopen the breaker
// if business errors counted.
func TestBreakerBusinessErrorsNeverCount(t *testing.T) {
	business := []error{bank.ErrNotFound, bank.ErrInvalidArgument, bank.ErrIdempotencyKeyReuse, bank.ErrPermissionDenied, bank.ErrUnauthenticated}
	down := bank.ErrUnavailable
	call := func(b bank.Bank, target *switchable, err error) {
		target.set(err)
		b.Balance(context.Background(), "000000001")
	}
	t.Run("fast path", func(t *testing.T) {
		target, log := &switchable{}, &stateLog{}
		b := Wrap(target, WithoutRetry(), WithHooks(Hooks{StateChange: log.hook}), WithBreaker(BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: openTimeout}))
		for range 3 {
			for _, e := range business {
				call(b, target, e)
			}
		}
		if log.String() != "" {
			t.Errorf("state changes on business errors: %s", log)
		}
	})
	t.Run("after a failure", func(t *testing.T) {
		target, log := &switchable{}, &stateLog{}
		b := Wrap(target, WithoutRetry(), WithHooks(Hooks{StateChange: log.hook}), WithBreaker(BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: openTimeout}))
		for _, e := range business {
			call(b, target, down) // the breaker has seen a failure: gobreaker judges what follows
			call(b, target, e)
			call(b, target, e)
		}
		if log.String() != "" {
			t.Errorf("state changes with failures never consecutive: %s", log)
		}
	})
	t.Run("half-open probe", func(t *testing.T) {
		target, log := &switchable{}, &stateLog{}
		b := Wrap(target, WithoutRetry(), WithHooks(Hooks{StateChange: log.hook}), WithBreaker(BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: openTimeout, HalfOpenProbes: 1}))
		for range 3 {
			call(b, target, down)
		}
		waitHalfOpen()
		call(b, target, bank.ErrNotFound) // the target answered: it is up
		if want := "closed>open open>half-open half-open>closed"; log.String() != want {
			t.Errorf("state changes %q, want %q", log, want)
		}
	})
	t.Run("failure ratio", func(t *testing.T) {
		target, log := &switchable{}, &stateLog{}
		b := Wrap(target, WithoutRetry(), WithHooks(Hooks{StateChange: log.hook}), WithBreaker(BreakerSettings{FailureRatio: 0.5, MinRequests: 4, Window: time.Minute, OpenTimeout: openTimeout}))
		for range 4 {
			for _, e := range business {
				call(b, target, e)
			}
		}
		call(b, target, down)
		if log.String() != "" {
			t.Errorf("state changes on business errors and one failure: %s", log)
		}
	})
}
