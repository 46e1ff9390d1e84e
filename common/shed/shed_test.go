package shed_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/shed"
)

// gate is a bank whose calls wait until the test lets them through, and
// that counts the calls in progress.
type gate struct {
	bank.Bank
	open    chan struct{}
	running atomic.Int32
	most    atomic.Int32
	started chan struct{} // one value per call that started
}

func newGate() *gate {
	return &gate{Bank: bank.NewService(ledger.NewMemory(10)), open: make(chan struct{}), started: make(chan struct{}, 1000)}
}

func (g *gate) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			break
		}
	}
	g.started <- struct{}{}
	<-g.open
	return g.Bank.Balance(ctx, acc)
}

var acc = ledger.SeedAccount(1)

// call runs a Balance on its own goroutine and returns its error's
// channel.
func call(ctx context.Context, b bank.Bank) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := b.Balance(ctx, acc)
		ch <- err
	}()
	return ch
}

// waitStarted waits until n calls have reached the gate.
func waitStarted(t *testing.T, g *gate, n int) {
	t.Helper()
	for range n {
		select {
		case <-g.started:
		case <-time.After(10 * time.Second):
			t.Fatal("a call that should run did not start")
		}
	}
}

// waitQueued waits until l has queued n calls in all.
func waitQueued(t *testing.T, l *shed.Limiter, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); l.Stats().Queued < n; {
		if time.Now().After(deadline) {
			t.Fatalf("queued %d calls, want %d", l.Stats().Queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func wantRefused(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("%s: %v, want unavailable", what, err)
	}
	if d, ok := bank.RetryAfter(err); !ok || d <= 0 {
		t.Fatalf("%s: no retry-after hint in %v", what, err)
	}
}

func TestLimitAndQueue(t *testing.T) {
	g := newGate()
	l := shed.NewLimiter(g, shed.Config{MaxCalls: 2, Queue: 3, MaxWait: time.Minute})
	ctx := context.Background()
	var results []<-chan error
	for range 2 {
		results = append(results, call(ctx, l))
	}
	waitStarted(t, g, 2)
	for range 3 {
		results = append(results, call(ctx, l))
	}
	waitQueued(t, l, 3)
	// Slots and queue are full: the next call is refused at once.
	_, err := l.Balance(ctx, acc)
	wantRefused(t, err, "a call with the queue full")
	close(g.open)
	for i, ch := range results {
		if err := <-ch; err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if m := g.most.Load(); m != 2 {
		t.Errorf("at most %d calls ran at once, want 2", m)
	}
	if s := l.Stats(); s != (shed.Stats{Admitted: 5, Queued: 3, Refused: 1}) {
		t.Errorf("stats %+v", s)
	}
}

func TestNoLimit(t *testing.T) {
	b := bank.NewService(ledger.NewMemory(10))
	if shed.New(b, shed.Config{}) != b {
		t.Fatal("MaxCalls 0 did not return the bank itself")
	}
}

func TestNoQueue(t *testing.T) {
	g := newGate()
	l := shed.NewLimiter(g, shed.Config{MaxCalls: 1})
	first := call(context.Background(), l)
	waitStarted(t, g, 1)
	_, err := l.Balance(context.Background(), acc)
	wantRefused(t, err, "a second call with no queue")
	close(g.open)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}

// A call whose deadline ends before its estimated wait and service is
// refused at once, not after waiting in vain; one with time enough waits.
func TestDeadlineReject(t *testing.T) {
	slow := &banktest.Slow{Bank: bank.NewService(ledger.NewMemory(10)), Delay: 50 * time.Millisecond}
	defer slow.Release()
	l := shed.NewLimiter(slow, shed.Config{MaxCalls: 1, Queue: 10, MaxWait: time.Minute})
	// Teach it the service time: about 50 ms.
	if _, err := l.Balance(context.Background(), acc); err != nil {
		t.Fatal(err)
	}
	busy := call(context.Background(), l)
	for l.Stats().Admitted < 2 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := l.Balance(ctx, acc)
	wantRefused(t, err, "a call with 20 ms left behind a 50 ms call")
	if s := l.Stats(); s.Queued != 0 {
		t.Fatalf("the hopeless call was queued: %+v", s)
	}
	if ctx.Err() != nil {
		t.Fatalf("refused only after its deadline passed (%v)", time.Since(start))
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if _, err := l.Balance(ctx2, acc); err != nil {
		t.Fatalf("a call with time enough: %v", err)
	}
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
}

// A queued call waits at most MaxWait, then is refused.
func TestMaxWait(t *testing.T) {
	g := newGate()
	defer close(g.open)
	l := shed.NewLimiter(g, shed.Config{MaxCalls: 1, Queue: 1, MaxWait: 20 * time.Millisecond})
	first := call(context.Background(), l)
	waitStarted(t, g, 1)
	_, err := l.Balance(context.Background(), acc)
	wantRefused(t, err, "a call queued past MaxWait")
	if s := l.Stats(); s.Queued != 1 || s.Refused != 1 {
		t.Fatalf("stats %+v", s)
	}
	_ = first
}

// A queued call whose context ends leaves the queue without running, and
// its place goes to the next.
func TestCancelLeavesQueue(t *testing.T) {
	g := newGate()
	l := shed.NewLimiter(g, shed.Config{MaxCalls: 1, Queue: 1, MaxWait: time.Minute})
	first := call(context.Background(), l)
	waitStarted(t, g, 1)
	ctx, cancel := context.WithCancel(context.Background())
	queued := call(ctx, l)
	waitQueued(t, l, 1)
	cancel()
	if err := <-queued; !errors.Is(err, bank.ErrCanceled) {
		t.Fatalf("canceled queued call: %v, want canceled", err)
	}
	// The queue has room again.
	next := call(context.Background(), l)
	waitQueued(t, l, 2)
	close(g.open)
	for _, ch := range []<-chan error{first, next} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if s := l.Stats(); s.Left != 1 || s.Admitted != 2 {
		t.Fatalf("stats %+v: want 1 left, 2 admitted (the canceled call never ran)", s)
	}
}

// Many callers through a small limit: never more than MaxCalls at once,
// every call answered or refused, no goroutine left behind.
func TestConcurrentNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	slow := &banktest.Slow{Bank: bank.NewService(ledger.NewMemory(10)), Delay: time.Millisecond}
	var running, most atomic.Int32
	counted := countingBank{Bank: slow, running: &running, most: &most}
	l := shed.NewLimiter(counted, shed.Config{MaxCalls: 3, Queue: 4, MaxWait: 50 * time.Millisecond})
	var wg sync.WaitGroup
	var ok, refused, other atomic.Int32
	for i := range 64 {
		wg.Go(func() {
			for j := range 20 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+(i+j)%20)*time.Millisecond)
				_, err := l.Balance(ctx, acc)
				cancel()
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, bank.ErrUnavailable):
					refused.Add(1)
				case errors.Is(err, bank.ErrDeadlineExceeded):
					other.Add(1)
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m > 3 {
		t.Errorf("%d calls ran at once, limit 3", m)
	}
	if ok.Load() == 0 || refused.Load() == 0 {
		t.Errorf("%d answered, %d refused: want both", ok.Load(), refused.Load())
	}
	// No slot lost: a lone call gets one at once.
	if _, err := l.Balance(context.Background(), acc); err != nil {
		t.Fatalf("a lone call after the storm: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after, %d before", n, before)
	}
}

type countingBank struct {
	bank.Bank
	running, most *atomic.Int32
}

func (c countingBank) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for {
		m := c.most.Load()
		if n <= m || c.most.CompareAndSwap(m, n) {
			break
		}
	}
	return c.Bank.Balance(ctx, acc)
}

// Refusals are logged at DEBUG with the keys of package logs, and not at
// INFO.
func TestRefusalLogged(t *testing.T) {
	for _, level := range []string{"debug", "info"} {
		var out banktest.LogBuffer
		logger, err := logs.New(&out, "json", level)
		if err != nil {
			t.Fatal(err)
		}
		g := newGate()
		l := shed.NewLimiter(g, shed.Config{MaxCalls: 1, Logger: logger})
		first := call(context.Background(), l)
		waitStarted(t, g, 1)
		l.Balance(context.Background(), acc)
		close(g.open)
		<-first
		got := out.String()
		if level == "info" {
			if got != "" {
				t.Errorf("logged at INFO: %s", got)
			}
			continue
		}
		for _, want := range []string{`"level":"DEBUG"`, `"op":"balance"`, `"reason":"queue full"`, `"code":"unavailable"`} {
			if !strings.Contains(got, want) {
				t.Errorf("log %s lacks %s", got, want)
			}
		}
	}
}
