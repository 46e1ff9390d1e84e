package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/pace"
)

// Latencies are recorded in nanoseconds from 1 µs to 60 s with three
// significant digits.
const (
	histMin     = 1_000
	histMax     = 60_000_000_000
	histSigFigs = 3
	// lateAfter is how far behind its intended send time an open-loop call
	// may start before it counts as late.
	lateAfter = time.Millisecond
	numCodes  = 16
)

// CutOffGrace is how long after the measured window a call in flight is
// waited for: then the run's own deadline ends it, and a call that fails
// then counts as an error (Sample.Stuck). Tests shorten it.
var CutOffGrace = 5 * time.Second

// load is how one measured run drives its clients.
type load struct {
	Workload    Workload
	Concurrency int           // callers (closed loop) or most calls in flight (open loop)
	Rate        float64       // calls per second in all; 0 for a closed loop
	Warmup      time.Duration // not measured
	Duration    time.Duration // measured
	Timeout     time.Duration // per-call deadline; 0: the run's own
	RunID       uint64        // makes idempotency keys unique across runs
	// StatementAccounts, if above 0, sends every statement to one of the
	// first that many accounts (the seeded ones); PageSize is the page
	// size of every statement (0: the server's default).
	StatementAccounts int
	PageSize          int
}

// opStats is what the callers measured of one operation.
type opStats struct {
	hist   *hdrhistogram.Histogram
	calls  uint64
	errors [numCodes]uint64
}

// runStats is what the callers measured of a run.
type runStats struct {
	elapsed time.Duration // the measured window (shorter if cut off)
	ops     [bank.NumOps]opStats
	service *hdrhistogram.Histogram // open loop: latency from the actual send
	late    uint64                  // open loop: calls sent lateAfter or more behind schedule
	unsent  uint64                  // open loop: calls due in the window but never sent
	stuck   uint64                  // calls cut off by the run's own deadline (counted as errors)
	failed  *hdrhistogram.Histogram // latency of the failed calls, nil if none failed
}

func (s *runStats) calls() uint64 {
	var n uint64
	for i := range s.ops {
		n += s.ops[i].calls
	}
	return n
}

func (s *runStats) errors() uint64 {
	var n uint64
	for i := range s.ops {
		for _, e := range s.ops[i].errors {
			n += e
		}
	}
	return n
}

var histPool = sync.Pool{New: func() any { return hdrhistogram.New(histMin, histMax, histSigFigs) }}

func getHist() *hdrhistogram.Histogram {
	h := histPool.Get().(*hdrhistogram.Histogram)
	h.Reset()
	return h
}

func record(h *hdrhistogram.Histogram, ns int64) {
	if ns < 0 {
		ns = 0
	}
	if ns > histMax {
		ns = histMax
	}
	_ = h.RecordValue(ns)
}

type worker struct {
	ops     [bank.NumOps]opStats
	failed  *hdrhistogram.Histogram // made at the first failure
	service *hdrhistogram.Histogram
	late    uint64
	unsent  uint64
	stuck   uint64
	done    atomic.Uint64 // completed calls, for the progress line
	_       [56]byte
}

// runLoad drives clients with l and returns what it measured. Workers are
// spread over the clients round robin. It returns when the measured window
// ends or ctx is canceled, keeping what was measured until then.
// measureHook, if not nil, is called as the measured window starts (true)
// and ends (false); runLoad returns only after it has returned.
func runLoad(ctx context.Context, clients []bank.Bank, l load, accounts []bank.AccountNo, measureHook func(start bool)) *runStats {
	// The callers are made first and wait at gate: with thousands of
	// them, the goroutine making them would otherwise compete with those
	// already calling and take seconds of the warm-up. The clock starts
	// when they are all ready.
	gate := make(chan struct{})
	var base time.Time
	var runCtx context.Context
	now := func() int64 { return int64(time.Since(base)) }
	mStart := int64(l.Warmup)
	mEnd := mStart + int64(l.Duration)
	// stop ends the callers.
	var stop atomic.Bool

	workers := make([]*worker, l.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{}
		for op := range w.ops {
			w.ops[op].hist = getHist()
		}
		if l.Rate > 0 {
			w.service = getHist()
		}
		workers[i] = w
		g := newGenerator(&l.Workload, accounts, i, l.RunID)
		g.stmtAccounts, g.pageSize = l.StatementAccounts, l.PageSize
		c := clients[i%len(clients)]
		wg.Add(1)
		if l.Rate > 0 {
			interval := float64(l.Concurrency) / l.Rate * 1e9
			offset := float64(i) / l.Rate * 1e9
			go func() {
				defer wg.Done()
				<-gate
				w.openLoop(runCtx, c, g, &l, now, mStart, mEnd, interval, offset, &stop)
			}()
		} else {
			go func() {
				defer wg.Done()
				<-gate
				w.closedLoop(runCtx, c, g, &l, now, mStart, mEnd, &stop)
			}()
		}
	}

	base = time.Now()
	// Calls left hanging when the window ends are cut off a little later.
	runCtx, cancel := context.WithDeadline(ctx, base.Add(time.Duration(mEnd)+CutOffGrace))
	defer cancel()
	go func() {
		<-runCtx.Done()
		stop.Store(true)
	}()
	var hookDone sync.WaitGroup
	if measureHook != nil {
		hookDone.Add(1)
		go func() {
			defer hookDone.Done()
			// The start is taken even if the goroutine ran late and the
			// run is over: only a run cut off before its window has none.
			if SleepUntil(runCtx, base.Add(time.Duration(mStart))) || now() >= mStart {
				measureHook(true)
				if SleepUntil(runCtx, base.Add(time.Duration(mEnd))) {
					measureHook(false)
				}
			}
		}()
	}
	close(gate)
	progressWorkers.Store(&workers)
	wg.Wait()
	cancel() // ends the hook's wait if the run was cut short
	hookDone.Wait()
	progressWorkers.Store(nil)
	end := now()
	if end > mEnd {
		end = mEnd
	}
	st := &runStats{elapsed: time.Duration(end - mStart)}
	if st.elapsed < 0 {
		st.elapsed = 0
	}
	for op := range st.ops {
		st.ops[op].hist = hdrhistogram.New(histMin, histMax, histSigFigs)
	}
	if l.Rate > 0 {
		st.service = hdrhistogram.New(histMin, histMax, histSigFigs)
	}
	for _, w := range workers {
		for op := range w.ops {
			st.ops[op].hist.Merge(w.ops[op].hist)
			histPool.Put(w.ops[op].hist)
			st.ops[op].calls += w.ops[op].calls
			for c, n := range w.ops[op].errors {
				st.ops[op].errors[c] += n
			}
		}
		if w.failed != nil {
			if st.failed == nil {
				st.failed = hdrNew()
			}
			st.failed.Merge(w.failed)
		}
		if w.service != nil {
			st.service.Merge(w.service)
			histPool.Put(w.service)
		}
		st.late += w.late
		st.unsent += w.unsent
		st.stuck += w.stuck
	}
	return st
}

// progressWorkers lets the progress line count completed calls of the run
// in progress.
var progressWorkers atomic.Pointer[[]*worker]

func progressCalls() uint64 {
	p := progressWorkers.Load()
	if p == nil {
		return 0
	}
	var n uint64
	for _, w := range *p {
		n += w.done.Load()
	}
	return n
}

// SleepUntil sleeps until t, and reports false if ctx ended first. The
// labs pace their schedules with it too.
func SleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *worker) call(ctx context.Context, c bank.Bank, g *generator, l *load) (bank.Op, error) {
	op, acc := g.next()
	if l.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Timeout)
		defer cancel()
	}
	var err error
	switch op {
	case bank.OpBalance:
		_, err = c.Balance(ctx, acc)
	case bank.OpStatement:
		var st bank.Statement
		st, err = c.Statement(ctx, g.statementRequest(acc, l.Workload.Month))
		g.statementDone(acc, st, err)
	default:
		_, err = c.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: l.Workload.Amount, IdempotencyKey: g.key()})
	}
	return op, err
}

func (w *worker) count(op bank.Op, err error, latency int64, h *hdrhistogram.Histogram) {
	s := &w.ops[op]
	s.calls++
	if err != nil {
		c := bank.CodeOf(err)
		if int(c) >= numCodes {
			c = bank.Internal
		}
		s.errors[c]++
		if w.failed == nil {
			w.failed = hdrNew()
		}
		record(w.failed, latency)
	}
	record(h, latency)
}

func (w *worker) closedLoop(ctx context.Context, c bank.Bank, g *generator, l *load, now func() int64, mStart, mEnd int64, stop *atomic.Bool) {
	for !stop.Load() && w.step(ctx, c, g, l, now, mStart, mEnd, stop) {
	}
}

// step makes one closed-loop call and records it if it fell inside the
// measured window; it returns false once the window has ended.
func (w *worker) step(ctx context.Context, c bank.Bank, g *generator, l *load, now func() int64, mStart, mEnd int64, stop *atomic.Bool) bool {
	start := now()
	if start >= mEnd {
		return false
	}
	op, err := w.call(ctx, c, g, l)
	end := now()
	w.done.Add(1)
	switch {
	case err != nil && ctx.Err() != nil:
		w.cutOff(ctx, op, err, end-start)
	case start >= mStart && end <= mEnd:
		w.count(op, err, end-start, w.ops[op].hist)
	}
	return true
}

// cutOff counts a call that failed once the run was over. If the run's
// own deadline ended it, the call was stuck (a dial that never completed,
// a server at its limit that neither answered nor refused): an error with
// its code and its whole latency, so that a caller that could not make a
// call is never a row of zeros. An interrupted run counts nothing.
func (w *worker) cutOff(runCtx context.Context, op bank.Op, err error, latency int64) {
	if runCtx.Err() == context.DeadlineExceeded {
		w.stuck++
		w.count(op, err, latency, w.ops[op].hist)
	}
}

func (w *worker) openLoop(ctx context.Context, c bank.Bank, g *generator, l *load, now func() int64, mStart, mEnd int64, interval, offset float64, stop *atomic.Bool) {
	for k := 0; ; k++ {
		intended := int64(offset + float64(k)*interval)
		if intended >= mEnd {
			return
		}
		t := now()
		if stop.Load() || t >= mEnd {
			// Calls due in the window that were never sent.
			if intended >= mStart {
				w.unsent += uint64(float64(mEnd-intended)/interval) + 1
			} else if mEnd > mStart {
				w.unsent += uint64(float64(mEnd-mStart)/interval) + 1
			}
			return
		}
		if intended > t {
			pace.Until(time.Now().Add(time.Duration(intended - t)))
			t = now()
		}
		op, err := w.call(ctx, c, g, l)
		end := now()
		w.done.Add(1)
		if err != nil && ctx.Err() != nil {
			w.cutOff(ctx, op, err, end-intended)
		} else if intended >= mStart {
			if t-intended >= int64(lateAfter) {
				w.late++
			}
			w.count(op, err, end-intended, w.ops[op].hist)
			record(w.service, end-t)
		}
	}
}

func hdrNew() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histSigFigs) }
