package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/resilience"
)

// Client is the metrics of the clients of one process: the logical calls
// a caller makes (Bank) and what the client layers do about them (Hooks).
type Client struct {
	calls       *calls
	attempts    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	giveUps     *prometheus.CounterVec
	transitions *prometheus.CounterVec
	open        *prometheus.GaugeVec
}

// NewClient registers the client metrics with reg.
func NewClient(reg prometheus.Registerer) *Client {
	c := &Client{
		calls: newCalls(reg, "client"),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "igbank", Subsystem: "client", Name: "attempts_total",
			Help: "Attempts the client layers sent, by transport, operation and result code.",
		}, []string{"transport", "op", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "igbank", Subsystem: "client", Name: "retries_total",
			Help: "Attempts that were retried after a backoff, by transport and operation.",
		}, []string{"transport", "op"}),
		giveUps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "igbank", Subsystem: "client", Name: "giveups_total",
			Help: "Failed calls returned to the caller, by why the layers stopped: not_retryable, attempts, budget (the retry budget was spent) or deadline.",
		}, []string{"transport", "op", "reason"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "igbank", Subsystem: "client", Name: "breaker_transitions_total",
			Help: "Circuit breaker state changes, by the state entered.",
		}, []string{"transport", "to"}),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "igbank", Subsystem: "client", Name: "breakers_open",
			Help: "Circuit breakers open now (one breaker per wrapped client).",
		}, []string{"transport"}),
	}
	reg.MustRegister(c.attempts, c.retries, c.giveUps, c.transitions, c.open)
	return c
}

// Bank returns b with the calls its caller makes counted under transport:
// wrap it around the client layers (resilience.Wrap), so that a call
// counts once, whatever its attempts.
func (c *Client) Bank(transport string, b bank.Bank) bank.Bank { return c.calls.wrap(transport, b) }

// Hooks returns the hooks that count, under transport, what the client
// layers do (resilience.WithHooks).
func (c *Client) Hooks(transport string) resilience.Hooks {
	var attempts [bank.NumOps]*prometheus.CounterVec
	var retries [bank.NumOps]prometheus.Counter
	for op := range bank.Op(bank.NumOps) {
		attempts[op] = c.attempts.MustCurryWith(prometheus.Labels{"transport": transport, "op": op.String()})
		retries[op] = c.retries.WithLabelValues(transport, op.String())
	}
	open := c.open.WithLabelValues(transport)
	return resilience.Hooks{
		Attempt: func(op bank.Op, _ int, err error) {
			if op < bank.NumOps {
				attempts[op].WithLabelValues(bank.CodeOf(err).String()).Inc()
			}
		},
		Retry: func(op bank.Op, _ int, _ time.Duration, _ error) {
			if op < bank.NumOps {
				retries[op].Inc()
			}
		},
		GiveUp: func(op bank.Op, _ int, why resilience.GiveUp, _ error) {
			c.giveUps.WithLabelValues(transport, op.String(), why.String()).Inc()
		},
		StateChange: func(from, to resilience.BreakerState) {
			c.transitions.WithLabelValues(transport, to.String()).Inc()
			switch {
			case to == resilience.BreakerOpen:
				open.Inc()
			case from == resilience.BreakerOpen:
				open.Dec()
			}
		},
	}
}
