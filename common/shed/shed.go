// Package shed is the admission control of every server: load shedding
// for calls, as package admit is for connections. It is a bank.Bank
// decorator that lets at most Config.MaxCalls calls run at once, keeps a
// short first-in, first-out queue of at most Config.Queue calls waiting
// for a slot, and refuses at once, with bank.Unavailable and a retry-after
// hint (bank.WithRetryAfter), every call it could not serve in time:
//
//   - the queue is full;
//   - the call's wait, estimated from its place in the queue and a moving
//     average of recent service times, would exceed Config.MaxWait;
//   - the call's context deadline would pass before the call could end
//     (its estimated wait plus one service time);
//
// and a queued call that has waited MaxWait after all is refused then. A
// queued call whose context ends leaves the queue without running.
//
// Why: a server without a limit takes every call it is sent; past its
// capacity the calls queue inside it without bound, every caller waits
// longer and longer, and callers whose deadline passes have their calls
// served all the same, for nothing. Goodput falls while the server is
// busiest (docs/benchmarks.md measured gRPC at 60,000 calls/s offered
// answering 17,900 with a median of half a second). Refusing at once what
// cannot be served in time keeps the calls admitted fast and the server
// at its capacity; the refused callers learn it in microseconds and may
// try elsewhere or later.
//
// Every server program wires it with -max-calls and -call-queue
// (common/cli, loadtest serve). Nothing runs on a goroutine of its own:
// a queued call waits on its own goroutine, the one its transport gave
// it, and memory is bounded by MaxCalls plus Queue.
package shed

import (
	"container/list"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/logs"
)

// DefaultMaxWait is the longest a call may wait in the queue when
// Config.MaxWait is 0: a few service times of a slow call, short enough
// that an admitted call's latency stays bounded under any overload.
const DefaultMaxWait = 100 * time.Millisecond

// Config configures a Limiter.
type Config struct {
	// MaxCalls is how many calls may be in progress at once; 0 or less
	// is no limit (New then returns the bank unchanged).
	MaxCalls int
	// Queue is how many calls may wait for a slot; 0 or less: none (a
	// call that finds every slot taken is refused).
	Queue int
	// MaxWait bounds a call's wait in the queue (0: DefaultMaxWait).
	MaxWait time.Duration
	// Logger, if not nil, receives a DEBUG record for every call refused,
	// with the keys of package logs (op, reason). DEBUG, because an
	// overloaded server refuses thousands a second; Stats counts them.
	Logger *slog.Logger
}

// Stats counts what a Limiter did since it was made.
type Stats struct {
	Admitted uint64 // calls run (at once or after waiting)
	Queued   uint64 // calls that waited in the queue
	Refused  uint64 // calls refused with bank.Unavailable
	Left     uint64 // queued calls whose context ended while they waited
}

// Limiter is a bank.Bank with admission control over another. Its zero
// value is not usable; use New.
type Limiter struct {
	next bank.Bank
	cfg  Config

	mu       sync.Mutex
	inflight int
	queue    list.List // of *waiter, oldest first
	// avgNs is an exponentially weighted moving average of the service
	// time of recent calls (weight 1/8 for the newest), in nanoseconds.
	avgNs float64

	admitted, queued, refused, left atomic.Uint64
}

// waiter is one queued call. ready is closed when a slot is handed over
// to it; granted says so under Limiter.mu.
type waiter struct {
	ready   chan struct{}
	granted bool
}

// New returns b behind admission control as cfg says; with cfg.MaxCalls
// 0 or less it returns b itself.
func New(b bank.Bank, cfg Config) bank.Bank {
	if cfg.MaxCalls <= 0 {
		return b
	}
	return NewLimiter(b, cfg)
}

// NewLimiter is New that always returns a Limiter (MaxCalls at least 1),
// for callers that read its Stats.
func NewLimiter(b bank.Bank, cfg Config) *Limiter {
	cfg.MaxCalls = max(cfg.MaxCalls, 1)
	cfg.Queue = max(cfg.Queue, 0)
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	return &Limiter{next: b, cfg: cfg}
}

// Stats returns what l did so far.
func (l *Limiter) Stats() Stats {
	return Stats{Admitted: l.admitted.Load(), Queued: l.queued.Load(), Refused: l.refused.Load(), Left: l.left.Load()}
}

// Reasons for a refusal, as logged (logs.Reason).
const (
	reasonQueueFull = "queue full"
	reasonWait      = "estimated wait too long"
	reasonDeadline  = "deadline cannot be met"
	reasonWaited    = "waited too long"
)

// acquire takes a slot for a call of op, waiting in the queue if it may.
// It returns the time the slot was taken, or the refusal.
func (l *Limiter) acquire(ctx context.Context, op bank.Op) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, bank.FromContext(ctx, err)
	}
	l.mu.Lock()
	if l.inflight < l.cfg.MaxCalls && l.queue.Len() == 0 {
		l.inflight++
		l.mu.Unlock()
		l.admitted.Add(1)
		return time.Now(), nil
	}
	ahead := l.queue.Len()
	svc := time.Duration(l.avgNs)
	// The queue drains MaxCalls at a time, one service time apiece.
	wait := time.Duration(ahead+1) * svc / time.Duration(l.cfg.MaxCalls)
	reason := ""
	switch {
	case ahead >= l.cfg.Queue:
		reason = reasonQueueFull
	case wait > l.cfg.MaxWait:
		reason = reasonWait
	default:
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+svc {
			reason = reasonDeadline
		}
	}
	if reason != "" {
		l.mu.Unlock()
		return time.Time{}, l.refuse(ctx, op, reason, wait)
	}
	w := &waiter{ready: make(chan struct{})}
	e := l.queue.PushBack(w)
	l.mu.Unlock()
	l.queued.Add(1)

	timer := time.NewTimer(l.cfg.MaxWait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		l.admitted.Add(1)
		return time.Now(), nil
	case <-ctx.Done():
		err = bank.FromContext(ctx, ctx.Err())
	case <-timer.C:
	}
	l.mu.Lock()
	if w.granted {
		// The slot came as the wait ended: pass it on, unused.
		l.releaseLocked()
	} else {
		l.queue.Remove(e)
	}
	l.mu.Unlock()
	if err != nil {
		l.left.Add(1)
		return time.Time{}, err
	}
	return time.Time{}, l.refuse(ctx, op, reasonWaited, l.cfg.MaxWait)
}

// refuse counts and logs a refusal and returns its error, whose
// retry-after hint is the wait the caller was spared (at least a
// millisecond): by then the queue should have room.
func (l *Limiter) refuse(ctx context.Context, op bank.Op, reason string, wait time.Duration) error {
	l.refused.Add(1)
	if lg := l.cfg.Logger; lg != nil && lg.Enabled(ctx, slog.LevelDebug) {
		lg.LogAttrs(ctx, slog.LevelDebug, "call refused: server overloaded",
			slog.String(logs.Op, op.String()), slog.String(logs.Reason, reason), slog.String(logs.Code, bank.Unavailable.String()))
	}
	return bank.WithRetryAfter(&bank.Error{Code: bank.Unavailable, Message: "server overloaded: " + reason}, max(wait, time.Millisecond))
}

// release ends a call that started at start: it folds its service time
// into the average and hands its slot to the oldest queued call.
func (l *Limiter) release(start time.Time) {
	d := float64(time.Since(start))
	l.mu.Lock()
	if l.avgNs == 0 {
		l.avgNs = d
	} else {
		l.avgNs += (d - l.avgNs) / 8
	}
	l.releaseLocked()
	l.mu.Unlock()
}

func (l *Limiter) releaseLocked() {
	if e := l.queue.Front(); e != nil {
		w := l.queue.Remove(e).(*waiter)
		w.granted = true
		close(w.ready)
		return
	}
	l.inflight--
}

// Balance implements bank.Bank.
func (l *Limiter) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	start, err := l.acquire(ctx, bank.OpBalance)
	if err != nil {
		return 0, err
	}
	defer l.release(start)
	return l.next.Balance(ctx, acc)
}

// Statement implements bank.Bank.
func (l *Limiter) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	start, err := l.acquire(ctx, bank.OpStatement)
	if err != nil {
		return bank.Statement{}, err
	}
	defer l.release(start)
	return l.next.Statement(ctx, req)
}

// Deposit implements bank.Bank.
func (l *Limiter) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	start, err := l.acquire(ctx, bank.OpDeposit)
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	defer l.release(start)
	return l.next.Deposit(ctx, req)
}
