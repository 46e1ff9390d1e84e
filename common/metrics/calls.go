package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/igbank/igbank/common/bank"
)

// latencyBuckets span a loopback call on raw sockets (tens of
// microseconds) to a call that waits out a deadline (seconds).
var latencyBuckets = []float64{
	50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
	1, 2.5, 5, 10,
}

// calls are the call metrics of one side (server or client): calls by
// code, latency, calls in progress.
type calls struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight *prometheus.GaugeVec
}

func newCalls(reg prometheus.Registerer, side string) *calls {
	c := &calls{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "igbank", Subsystem: side, Name: "calls_total",
			Help: "Calls finished, by transport, operation and result code.",
		}, []string{"transport", "op", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "igbank", Subsystem: side, Name: "call_duration_seconds",
			Help:    "Time from a call's start to its result, by transport and operation.",
			Buckets: latencyBuckets,
		}, []string{"transport", "op"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "igbank", Subsystem: side, Name: "calls_in_flight",
			Help: "Calls in progress, by transport and operation.",
		}, []string{"transport", "op"}),
	}
	reg.MustRegister(c.total, c.duration, c.inFlight)
	return c
}

// wrap returns b with its calls counted under transport.
func (c *calls) wrap(transport string, b bank.Bank) bank.Bank {
	cb := &countedBank{next: b}
	for op := range bank.Op(bank.NumOps) {
		o := &cb.ops[op]
		o.total = c.total.MustCurryWith(prometheus.Labels{"transport": transport, "op": op.String()})
		o.duration = c.duration.WithLabelValues(transport, op.String())
		o.inFlight = c.inFlight.WithLabelValues(transport, op.String())
	}
	return cb
}

type countedBank struct {
	next bank.Bank
	ops  [bank.NumOps]opCalls
}

// opCalls are one operation's series. The counters of each code are
// looked up once and kept: a call then costs a few atomic operations and
// no map lookup.
type opCalls struct {
	total    *prometheus.CounterVec
	byCode   [numCodes]atomic.Pointer[prometheus.Counter]
	duration prometheus.Observer
	inFlight prometheus.Gauge
}

// numCodes is the size of bank.Code's fixed set, OK included.
const numCodes = int(bank.Canceled) + 1

func (o *opCalls) start() time.Time {
	o.inFlight.Inc()
	return time.Now()
}

func (o *opCalls) done(start time.Time, err error) {
	o.duration.Observe(time.Since(start).Seconds())
	o.inFlight.Dec()
	o.counter(bank.CodeOf(err)).Inc()
}

func (o *opCalls) counter(c bank.Code) prometheus.Counter {
	if int(c) >= len(o.byCode) {
		return o.total.WithLabelValues(c.String())
	}
	if p := o.byCode[c].Load(); p != nil {
		return *p
	}
	ctr := o.total.WithLabelValues(c.String())
	o.byCode[c].Store(&ctr)
	return ctr
}

func (b *countedBank) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	o := &b.ops[bank.OpBalance]
	t0 := o.start()
	m, err := b.next.Balance(ctx, acc)
	o.done(t0, err)
	return m, err
}

func (b *countedBank) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	o := &b.ops[bank.OpStatement]
	t0 := o.start()
	st, err := b.next.Statement(ctx, req)
	o.done(t0, err)
	return st, err
}

func (b *countedBank) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	o := &b.ops[bank.OpDeposit]
	t0 := o.start()
	r, err := b.next.Deposit(ctx, req)
	o.done(t0, err)
	return r, err
}
