package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/bench"
	"github.com/sony/gobreaker/v2"
)

// breakerFailFast is the key of Result.AttemptErrors that counts the
// attempts the open (or half-open) breaker failed at once, apart from the
// unavailable errors the transport reported.
const breakerFailFast = "breaker_fail_fast"

// Config is how one scenario is driven.
type Config struct {
	Deposits       int           // logical deposits, spread evenly over Duration
	Workers        int           // callers
	Accounts       int           // accounts the deposits go to
	Duration       time.Duration // the span the deposits are sent over; faults happen inside it
	CallTimeout    time.Duration // deadline of each logical deposit (retries included)
	AttemptTimeout time.Duration // deadline of each attempt
	IgnoreKeys     bool          // the server ignores idempotency keys (bank.IgnoreKeys)
	// NoBudget and NoBreaker leave the retry budget and the circuit
	// breaker out of the client layers, so that every failed call is
	// retried up to its attempts: how to see retries with keys recover
	// lost responses, rather than the budget and breaker failing fast.
	NoBudget, NoBreaker bool
	// NoRetry makes one attempt per deposit: at-most-once delivery, to
	// set beside at-least-once (retries, IgnoreKeys) and exactly-once
	// (retries and keys).
	NoRetry bool
	// TLS runs the cell over TLS (a development PKI of the cell's own):
	// the faults then cut TLS sessions, and every reconnection pays a
	// handshake.
	TLS bool
}

// DefaultConfig is the full form of a scenario: a few seconds.
func DefaultConfig() Config {
	return Config{Deposits: 200, Workers: 8, Accounts: 8, Duration: 3 * time.Second,
		CallTimeout: 4 * time.Second, AttemptTimeout: 300 * time.Millisecond}
}

// Scenario is one partial failure, made on purpose.
type Scenario struct {
	Name string
	Help string
	// Expect are the codes a client sees (on its attempts) in this
	// scenario; at least one must appear. Empty: no error may appear.
	Expect []bank.Code
	// AllAcked: every deposit must end acknowledged (the fault never
	// outlasts the retries).
	AllAcked bool
	// LosesResponses: the fault loses responses of deposits the server
	// applied, so with keys ignored their retries must apply some twice:
	// the bug the lab sets out to show.
	LosesResponses bool
	setup          func(r *rig, c Config) (*injection, error)
	// run, when set, runs the scenario in place of the in-process rig
	// and setup: the crashes, which need a server process of their own.
	run func(ctx context.Context, s Scenario, tr transport.Variant, c Config) Result
}

// injection is a scenario set up on a rig: the address the client dials,
// and how the fault is switched on and off over the run.
type injection struct {
	addr    string
	on, off func() error
	// windows lists when the fault is on, as fractions of the run's
	// Duration; nil means the whole run.
	windows [][2]float64
}

// faultCycle is fault windows of width w every 2w from 20% to 80% of the run.
func faultCycle(w float64) [][2]float64 {
	var out [][2]float64
	for s := 0.2; s+w <= 0.8+1e-9; s += 2 * w {
		out = append(out, [2]float64{s, s + w})
	}
	return out
}

func noFault() error { return nil }

func toxicFault(r *rig, windows [][2]float64, toxics ...toxic) *injection {
	return &injection{addr: r.proxy.Addr(), windows: windows,
		on: func() error {
			for _, x := range toxics {
				if err := r.proxy.Add(x); err != nil {
					return err
				}
			}
			return nil
		},
		off: func() error { r.proxy.RemoveAll(); return nil },
	}
}

func toxicMs(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// Scenarios are the partial failures "loadtest faults" knows, in order.
var Scenarios = []Scenario{
	{Name: "refused", Expect: []bank.Code{bank.Unavailable},
		Help: "Nothing listens at the server's address: the embedded Toxiproxy proxy is started, then disabled, so every dial to its port on 127.0.0.1 is refused at once (TCP RST to the SYN). Every call fails fast with unavailable, the breaker opens after a few and then fails calls without dialing; nothing is applied, and the audit checks that nothing was.",
		setup: func(r *rig, c Config) (*injection, error) {
			r.proxy.Disable()
			return &injection{addr: r.proxy.Addr(), on: noFault, off: noFault}, nil
		}},
	{Name: "unresolvable", Expect: []bank.Code{bank.Unavailable},
		Help: "The server's name does not resolve: the client dials igbank-faults.onion. Go's resolver answers .onion names itself with no address and sends no DNS query (RFC 7686), so nothing leaves the machine (a .invalid name would be sent to the system's name server here). Calls fail fast with unavailable; nothing is applied.",
		setup: func(r *rig, c Config) (*injection, error) {
			_, port, _ := net.SplitHostPort(r.proxy.Addr())
			return &injection{addr: net.JoinHostPort("igbank-faults.onion", port), on: noFault, off: noFault}, nil
		}},
	{Name: "crash-before-apply", Expect: []bank.Code{bank.Unavailable}, AllAcked: true, run: crashScenario(fault.CrashBeforeApply),
		Help: "The server dies after reading a deposit, before applying it: a server process of its own (loadtest serve -store sqlite:FILE -fault crash-before-apply:N) SIGKILLs itself on its Nth deposit, twice in the run, and the harness restarts it on the same SQLite file and address. Clients see unavailable (the connection dies unanswered), reconnect and retry with the same key; the deposit was never applied, so the retry applies it once.",
	},
	{Name: "crash-after-apply", LosesResponses: true, Expect: []bank.Code{bank.Unavailable}, AllAcked: true, run: crashScenario(fault.CrashAfterApply),
		Help: "The server applies a deposit and dies before answering: as crash-before-apply, but the process SIGKILLs itself after the deposit is committed to SQLite. The client cannot tell this from the crash before; it retries with the same key and the restarted server, reading the same file, replays the stored receipt. With -idempotency=off the retry is applied again: the deposit-twice case of a crash.",
	},
	{Name: "reset", LosesResponses: true, Expect: []bank.Code{bank.Unavailable},
		Help: "Connections are reset mid-call: in short windows a Toxiproxy reset_peer toxic closes each connection as soon as the server starts answering (with a TCP RST on connections opened while the toxic is in place; Toxiproxy sets no-linger only when a connection starts, so one already open gets a FIN), so requests reach the server and are applied but their responses never arrive. Clients see unavailable, reconnect and retry with the same key; the server replays the stored receipt.",
		setup: func(r *rig, c Config) (*injection, error) {
			return toxicFault(r, faultCycle(0.1), toxic{Type: "reset_peer", Stream: "downstream", Attributes: map[string]any{"timeout": 0}}), nil
		}},
	{Name: "latency", AllAcked: true,
		Help: "Every packet is delayed: Toxiproxy latency toxics add 10ms ± 5ms of jitter in each direction for the whole run, well inside every deadline. No call may fail and nothing may be retried for want of time; the figure to read is the p99 latency.",
		setup: func(r *rig, c Config) (*injection, error) {
			a := map[string]any{"latency": 10, "jitter": 5}
			return toxicFault(r, nil, toxic{Type: "latency", Stream: "upstream", Attributes: a}, toxic{Type: "latency", Stream: "downstream", Attributes: a}), nil
		}},
	{Name: "slow-link", AllAcked: true,
		Help: "A narrow, choppy link: for the whole run Toxiproxy's bandwidth toxic holds each direction to 32 KB/s and its slicer cuts every write into pieces of 1 to 31 bytes sent 20µs apart, so every request and response arrives in fragments and each frame decoder must reassemble them. Deposits are small, so no call may fail; the figure to read is the p99 latency.",
		setup: func(r *rig, c Config) (*injection, error) {
			bw := map[string]any{"rate": 32}
			sl := map[string]any{"average_size": 16, "size_variation": 15, "delay": 20}
			return toxicFault(r, nil,
				toxic{Type: "bandwidth", Stream: "upstream", Attributes: bw}, toxic{Type: "bandwidth", Stream: "downstream", Attributes: bw},
				toxic{Type: "slicer", Stream: "upstream", Attributes: sl}, toxic{Type: "slicer", Stream: "downstream", Attributes: sl}), nil
		}},
	{Name: "truncated", LosesResponses: true, Expect: []bank.Code{bank.Unavailable},
		Help: "Responses are cut off partway: in short windows Toxiproxy's limit_data toxic closes each connection once the server has sent 16 bytes on it, so a response stops in the middle of its frame (or, on HTTP/2, before it starts). The deposit was applied; the client's decoder sees a short frame and a closed connection and reports unavailable, and the retry with the same key is answered with the stored receipt.",
		setup: func(r *rig, c Config) (*injection, error) {
			return toxicFault(r, faultCycle(0.1), toxic{Type: "limit_data", Stream: "downstream", Attributes: map[string]any{"bytes": 16}}), nil
		}},
	{Name: "slow-server", LosesResponses: true, Expect: []bank.Code{bank.DeadlineExceeded},
		Help: "The server answers after the client's deadline (an overloaded server): in short windows the server holds every deposit for twice the attempt timeout, then applies it anyway, whether or not the client still waits. The attempt times out (deadline exceeded), the retry carries the same key and is answered in flight or with the stored receipt; a deposit is never applied twice.",
		setup: func(r *rig, c Config) (*injection, error) {
			return &injection{addr: r.proxy.Addr(), windows: faultCycle(0.15),
				on:  func() error { r.slow.delay.Store(int64(2 * c.AttemptTimeout)); return nil },
				off: func() error { r.slow.delay.Store(0); return nil }}, nil
		}},
	{Name: "lost-response", LosesResponses: true, Expect: []bank.Code{bank.Unavailable, bank.DeadlineExceeded},
		Help: "The response is lost after the deposit was applied (the deposit-twice case): in short windows a Toxiproxy timeout toxic on the downstream direction drops everything the server sends and closes the connection after half the attempt timeout. The client sees unavailable or deadline exceeded and retries; with keys the server replays the receipt, without keys (-idempotency=off) the deposit is applied again.",
		setup: func(r *rig, c Config) (*injection, error) {
			return toxicFault(r, faultCycle(0.1), toxic{Type: "timeout", Stream: "downstream", Attributes: map[string]any{"timeout": toxicMs(c.AttemptTimeout / 2)}}), nil
		}},
	{Name: "lost-request", Expect: []bank.Code{bank.Unavailable, bank.DeadlineExceeded},
		Help: "The request is lost before the server saw it: in short windows a Toxiproxy timeout toxic on the upstream direction drops everything the client sends and closes the connection after half the attempt timeout. The client cannot tell this from a lost response; it retries with the same key and the deposit is applied once.",
		setup: func(r *rig, c Config) (*injection, error) {
			return toxicFault(r, faultCycle(0.1), toxic{Type: "timeout", Stream: "upstream", Attributes: map[string]any{"timeout": toxicMs(c.AttemptTimeout / 2)}}), nil
		}},
	{Name: "outage", Expect: []bank.Code{bank.Unavailable},
		Help: "The server is unreachable for a while, then comes back: the Toxiproxy proxy is disabled for 30% of the run (its connections closed, new ones refused) and enabled again. Calls fail with unavailable, the breaker opens and fails calls fast, the retry budget keeps attempts per call near one, half-open probes find the server back and the breaker closes.",
		setup: func(r *rig, c Config) (*injection, error) {
			return &injection{addr: r.proxy.Addr(), windows: [][2]float64{{0.25, 0.55}},
				on:  func() error { r.proxy.Disable(); return nil },
				off: r.proxy.Enable}, nil
		}},
}

// LookupScenario returns the scenario called name.
func LookupScenario(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// ScenarioNames lists the scenarios in order.
func ScenarioNames() []string {
	var n []string
	for _, s := range Scenarios {
		n = append(n, s.Name)
	}
	return n
}

// slowBank is the server-side decorator of slow-server: while delay is
// set, it holds every deposit that long (ignoring the caller's deadline,
// as an overloaded server does) and then applies it.
type slowBank struct {
	bank.Bank
	delay atomic.Int64
	stop  chan struct{}
}

func (s *slowBank) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if d := time.Duration(s.delay.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.stop:
			t.Stop()
			return bank.DepositReceipt{}, bank.Errorf(bank.Unavailable, "shutting down")
		}
		ctx = context.WithoutCancel(ctx)
	}
	return s.Bank.Deposit(ctx, req)
}

// rig is one scenario's world: a fresh in-memory ledger (the truth), the
// transport's server on 127.0.0.1 in this process, the embedded Toxiproxy in
// front of it.
type rig struct {
	truth  bank.Bank
	slow   *slowBank
	server transport.Server
	done   chan error
	proxy  *proxy
	keys   *keys // TLS, when the cell runs with it
}

func startRig(tr transport.Variant, c Config) (*rig, error) {
	svc := bank.NewService(ledger.NewMemory(c.Accounts))
	r := &rig{truth: svc, slow: &slowBank{Bank: svc, stop: make(chan struct{})}, done: make(chan error, 1)}
	var served bank.Bank = r.slow
	if c.IgnoreKeys {
		served = bank.IgnoreKeys(served)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var cfg transport.ServerConfig
	if c.TLS {
		if r.keys, err = newKeys(); err != nil {
			l.Close()
			return nil, err
		}
		cfg.TLS = r.keys.server
	}
	r.server = tr.NewServer(served, cfg)
	go func() { r.done <- r.server.Serve(l) }()
	if r.proxy, err = startProxy(tr.Name, l.Addr().String()); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// clientConfig is the shared settings of the rig's clients.
func (r *rig) clientConfig() transport.ClientConfig {
	if r.keys == nil {
		return transport.ClientConfig{}
	}
	return transport.ClientConfig{TLS: r.keys.client}
}

func (r *rig) close() {
	if r.keys != nil {
		defer r.keys.close()
	}
	if r.proxy != nil {
		r.proxy.Close()
	}
	close(r.slow.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r.server.Shutdown(ctx)
	select {
	case <-r.done:
	case <-ctx.Done():
	}
}

// isBreakerFailFast reports whether err is the breaker failing an attempt
// at once (open, or half open with its probes in flight).
func isBreakerFailFast(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}

// attemptErrors is the resilience.Hooks.Attempt that counts the errors of
// single attempts into res.AttemptErrors by code, under mu
// (breakerFailFast for the breaker's own, which the transport never saw).
func (res *Result) attemptErrors(mu *sync.Mutex) func(bank.Op, int, error) {
	return func(_ bank.Op, _ int, err error) {
		if err == nil {
			return
		}
		code := bank.CodeOf(err).String()
		if isBreakerFailFast(err) {
			code = breakerFailFast
		}
		mu.Lock()
		res.AttemptErrors[code]++
		mu.Unlock()
	}
}

// Transition is a change of the circuit breaker's state.
type Transition struct {
	AtMs float64 `json:"at_ms"` // since the run started
	From string  `json:"from"`
	To   string  `json:"to"`
}

// Result is one cell of the matrix: a scenario on a transport.
type Result struct {
	Scenario   string       `json:"scenario"`
	Transport  string       `json:"transport"`
	IgnoreKeys bool         `json:"ignore_keys,omitempty"`
	TLS        bool         `json:"tls,omitempty"`
	NoBudget   bool         `json:"no_budget,omitempty"`
	NoBreaker  bool         `json:"no_breaker,omitempty"`
	NoRetry    bool         `json:"no_retry,omitempty"`
	Audit      audit.Result `json:"audit"`
	// AttemptErrors counts the errors of single attempts by code: what the
	// client saw (breaker_fail_fast: failed at once by the breaker, which
	// the transport did not see). FinalErrors counts the logical deposits
	// that failed, by code.
	AttemptErrors   map[string]int64 `json:"attempt_errors"`
	FinalErrors     map[string]int64 `json:"final_errors"`
	Calls           int64            `json:"calls"`
	Attempts        int64            `json:"attempts"`
	Retries         int64            `json:"retries"`
	RetriesPerCall  float64          `json:"retries_per_call"`
	BreakerOpened   int64            `json:"breaker_opened"`
	BreakerClosed   int64            `json:"breaker_closed"`
	BreakerRejected int64            `json:"breaker_rejected"`
	Transitions     []Transition     `json:"transitions,omitempty"`
	P50Ms           float64          `json:"p50_ms"`
	P99Ms           float64          `json:"p99_ms"`
	FaultCalls      int              `json:"fault_calls"`  // calls started while the fault was on
	FaultP99Ms      float64          `json:"fault_p99_ms"` // their p99
	// AttemptsPerCall is attempts per logical call over the run (breaker
	// fail-fasts included); AttemptsPerCallInFault, over the calls that
	// started while the fault was on (0: none did, or no timeline).
	AttemptsPerCall        float64 `json:"attempts_per_call"`
	AttemptsPerCallInFault float64 `json:"attempts_per_call_in_fault,omitempty"`
	// FaultWindows are when the fault was actually switched on and off, in
	// ms since the run started (network faults only).
	FaultWindows [][2]float64 `json:"fault_windows_ms,omitempty"`
	// Timeline is every logical deposit, in the order it was sent.
	Timeline []CallRecord `json:"timeline,omitempty"`
	// Breaker sums up the transitions and the timeline when the breaker
	// opened: when it opened and closed, its probes, the calls it failed
	// fast.
	Breaker     *BreakerFigures `json:"breaker,omitempty"`
	Expected    []string        `json:"expected_codes"`
	SawExpected bool            `json:"saw_expected"`
	ElapsedMs   float64         `json:"elapsed_ms"`
	// Pass: the cell showed what its delivery guarantee predicts
	// (Delivery); Verdict says what that was, in the lab's words.
	Pass    bool   `json:"pass"`
	Verdict string `json:"verdict,omitempty"`
	Error   string `json:"error,omitempty"`
}

// CallRecord is one logical deposit of a run: when it started, how long it
// took, how it ended and how many attempts it made.
type CallRecord struct {
	StartMs   float64 `json:"start_ms"` // since the run started
	LatencyMs float64 `json:"latency_ms"`
	Code      string  `json:"code"` // "ok", or the final error's bank code
	// Attempts counts the attempts that reached the transport, plus the
	// one the breaker failed fast, if any.
	Attempts int `json:"attempts"`
	// FailedFast: an attempt was failed at once by the open or half-open
	// breaker. That ends the retry loop, so it can only be the last one.
	FailedFast bool `json:"failed_fast,omitempty"`
	InFault    bool `json:"in_fault,omitempty"` // started while the fault was on
	// Applied is how many times the ledger holds the deposit, by the
	// audit: 0, 1, or 2 and more for a duplicate.
	Applied int `json:"applied"`
}

// markApplied sets, from the audit's counts, how many times the ledger
// holds each deposit of timeline (whose calls are deposits', in order).
func markApplied(timeline []CallRecord, deposits []audit.Deposit, applications map[string]int) {
	for i := range timeline {
		if i < len(deposits) {
			timeline[i].Applied = applications[deposits[i].Key]
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile returns the p-th percentile (0-100) of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// callRecords are the records of a load's calls (start: when the run
// began); a call is in the fault when it started inside one of windows
// (ms since start).
func callRecords(start time.Time, calls []audit.Call, windows [][2]float64) []CallRecord {
	out := make([]CallRecord, len(calls))
	for i, c := range calls {
		cr := CallRecord{StartMs: ms(c.Start.Sub(start)), LatencyMs: ms(c.Latency), Code: "ok",
			Attempts: c.Attempts, FailedFast: isBreakerFailFast(c.Err)}
		if c.Err != nil {
			cr.Code = bank.CodeOf(c.Err).String()
		}
		if cr.FailedFast {
			cr.Attempts++ // the breaker's fail-fast never reached the transport
		}
		for _, w := range windows {
			cr.InFault = cr.InFault || (cr.StartMs >= w[0] && cr.StartMs <= w[1])
		}
		out[i] = cr
	}
	return out
}

// runCell runs scenario s over transport tr: it starts the rig, drives
// c.Deposits deposits with their own idempotency keys through the shared
// client layers (resilience.Wrap) while the fault comes and goes, then
// audits the ledger. ctx bounds the run.
func runCell(ctx context.Context, s Scenario, tr transport.Variant, c Config) Result {
	if s.run != nil {
		return s.run(ctx, s, tr, c)
	}
	res := newResult(s, tr, c)
	fail := func(err error) Result { res.Error = err.Error(); return res }
	r, err := startRig(tr, c)
	if err != nil {
		return fail(err)
	}
	defer r.close()
	f, err := s.setup(r, c)
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	var mu sync.Mutex
	var st resilience.Stats
	opts := []resilience.Option{
		resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 8, InitialBackoff: 10 * time.Millisecond,
			MaxBackoff: c.Duration / 10, AttemptTimeout: c.AttemptTimeout}),
		resilience.WithBreaker(resilience.BreakerSettings{OpenTimeout: c.Duration / 10}),
	}
	if c.NoBudget {
		opts = append(opts, resilience.WithoutBudget())
	}
	if c.NoBreaker {
		opts = append(opts, resilience.WithoutBreaker())
	}
	if c.NoRetry {
		opts = append(opts, resilience.WithoutRetry())
	}
	opts = append(opts,
		resilience.WithStats(&st),
		resilience.WithHooks(resilience.Hooks{
			Attempt: res.attemptErrors(&mu),
			StateChange: func(from, to resilience.BreakerState) {
				mu.Lock()
				res.Transitions = append(res.Transitions, Transition{AtMs: ms(time.Since(start)), From: from.String(), To: to.String()})
				mu.Unlock()
			},
		}))

	// The fault's schedule, and when it was actually switched.
	var faultOn atomic.Bool
	setFault := func(on bool) error {
		if faultOn.Load() == on {
			return nil
		}
		faultOn.Store(on)
		at := ms(time.Since(start))
		mu.Lock()
		if on {
			res.FaultWindows = append(res.FaultWindows, [2]float64{at, at})
		} else if n := len(res.FaultWindows); n > 0 {
			res.FaultWindows[n-1][1] = at
		}
		mu.Unlock()
		if on {
			return f.on()
		}
		return f.off()
	}
	schedCtx, stopSched := context.WithCancel(ctx)
	schedDone := make(chan error, 1)
	windows := f.windows
	if windows == nil {
		windows = [][2]float64{{0, 2}} // the whole run, until the deposits end
	}
	go func() {
		var err error
		for _, w := range windows {
			if !bench.SleepUntil(schedCtx, start.Add(time.Duration(w[0]*float64(c.Duration)))) {
				break
			}
			if err = setFault(true); err != nil {
				break
			}
			bench.SleepUntil(schedCtx, start.Add(time.Duration(w[1]*float64(c.Duration))))
			if err = setFault(false); err != nil {
				break
			}
		}
		schedDone <- err
	}()

	// The deposits, spread evenly over the run, from one client (one
	// budget, one breaker) that dials on use, so that transports whose
	// Dial connects at once still get calls (and their errors) when the
	// server cannot be reached.
	lr, _ := audit.Load{
		Dial: func(ctx context.Context) (transport.Client, error) {
			return tr.Dial(ctx, f.addr, r.clientConfig())
		},
		Resilience:   opts,
		SharedClient: true,
		Deposits:     c.Deposits,
		Workers:      c.Workers,
		Accounts:     c.Accounts,
		Over:         c.Duration,
		CallTimeout:  c.CallTimeout,
	}.Run(ctx)
	stopSched()
	if err := <-schedDone; err != nil {
		return fail(fmt.Errorf("fault: %w", err))
	}
	if err := setFault(false); err != nil {
		return fail(fmt.Errorf("fault off: %w", err))
	}
	res.ElapsedMs = ms(time.Since(start))
	deposits := lr.Deposits
	for _, d := range deposits {
		if d.Code != bank.OK {
			res.FinalErrors[d.Code.String()]++
		}
	}
	res.Timeline = callRecords(start, lr.Calls, res.FaultWindows)
	if len(deposits) < c.Deposits {
		return fail(fmt.Errorf("interrupted after %d of %d deposits", len(deposits), c.Deposits))
	}

	res.Calls, res.Attempts, res.Retries = st.Calls.Load(), st.Attempts.Load(), st.Retries.Load()
	res.BreakerOpened, res.BreakerClosed, res.BreakerRejected = st.BreakerOpened.Load(), st.BreakerClosed.Load(), st.BreakerRejected.Load()

	actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res.Audit, err = audit.Check(actx, r.truth, audit.Months(start), deposits, c.IgnoreKeys); err != nil {
		return fail(err)
	}
	markApplied(res.Timeline, deposits, res.Audit.Applications)
	res.finish(s)
	return res
}

// RunAll runs every scenario over every transport, in that order, and
// returns the cells of the matrix; starting, if set, is told of each cell
// as it starts. If ctx is canceled it stops at once and returns the cells
// run so far.
func RunAll(ctx context.Context, scenarios []Scenario, trs []transport.Variant, c Config, starting func(Scenario, transport.Variant)) []Result {
	var results []Result
	for _, s := range scenarios {
		for _, t := range trs {
			if ctx.Err() != nil {
				return results
			}
			if starting != nil {
				starting(s, t)
			}
			results = append(results, runCell(ctx, s, t, c))
		}
	}
	return results
}

// newResult is the empty cell of s over tr.
func newResult(s Scenario, tr transport.Variant, c Config) Result {
	res := Result{Scenario: s.Name, Transport: tr.Name, IgnoreKeys: c.IgnoreKeys, TLS: c.TLS,
		NoBudget: c.NoBudget, NoBreaker: c.NoBreaker, NoRetry: c.NoRetry,
		AttemptErrors: map[string]int64{}, FinalErrors: map[string]int64{}}
	for _, code := range s.Expect {
		res.Expected = append(res.Expected, code.String())
	}
	return res
}

// finish fills in the figures derived from res.Timeline (latencies,
// attempts per call, the breaker's) and whether the cell passed: exactly
// once, the expected codes seen, and every deposit acknowledged where the
// scenario says so.
func (res *Result) finish(s Scenario) {
	var all, during []float64
	var faultAttempts int
	for _, cr := range res.Timeline {
		all = append(all, cr.LatencyMs)
		if cr.InFault {
			during = append(during, cr.LatencyMs)
			faultAttempts += cr.Attempts
		}
	}
	sort.Float64s(all)
	sort.Float64s(during)
	res.P50Ms, res.P99Ms = percentile(all, 50), percentile(all, 99)
	res.FaultCalls, res.FaultP99Ms = len(during), percentile(during, 99)
	if res.Calls > 0 {
		res.RetriesPerCall = float64(res.Retries) / float64(res.Calls)
		res.AttemptsPerCall = float64(res.Attempts) / float64(res.Calls)
	}
	if len(during) > 0 {
		res.AttemptsPerCallInFault = float64(faultAttempts) / float64(len(during))
	}
	if f, ok := breakerFigures(*res); ok {
		res.Breaker = &f
	}
	if len(s.Expect) == 0 {
		res.SawExpected = len(res.AttemptErrors) == 0
	}
	for _, code := range s.Expect {
		if res.AttemptErrors[code.String()] > 0 {
			res.SawExpected = true
		}
	}
	res.Pass, res.Verdict = verdict(*res, s)
}
