package loadtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// Config is a run's configuration: what "loadtest run" was asked to do.
type Config struct {
	Transports  []string      `json:"transports"`
	Reference   bool          `json:"reference"`  // run the TCP ping-pong in every round
	InProcess   bool          `json:"in_process"` // servers in this process instead of their own
	Pin         bool          `json:"pin"`        // pin servers to CPU 0 and the generator to the others
	Rounds      int           `json:"rounds"`
	Warmup      time.Duration `json:"warmup_ns"`
	Duration    time.Duration `json:"duration_ns"`
	Concurrency []int         `json:"concurrency"`
	Connections int           `json:"connections"` // 0: each transport's default; n: n connections (a pool of n, or n clients)
	Rates       []float64     `json:"rates,omitempty"`
	Timeout     time.Duration `json:"timeout_ns,omitempty"`
	Resilience  bool          `json:"resilience"` // wrap clients in the shared retry and breaker layers
	Workload    Workload      `json:"workload"`
	// Addr, if set, is a server already running for the one transport of
	// the run (with no reference): nothing is started, and the server's
	// own accounting is not available.
	Addr string `json:"addr,omitempty"`
	// Store is the ledger of every server started, as common/store.Open
	// reads it: "memory" (the default), "sqlite:PATH" or "postgres://...".
	// The servers of one run share it.
	Store string `json:"store,omitempty"`
	// IgnoreKeys makes every server started ignore idempotency keys
	// (bank.IgnoreKeys, "serve -idempotency=off"): the partial-failure
	// lab's bug, under which a retried deposit is applied again.
	IgnoreKeys bool `json:"ignore_keys,omitempty"`
}

// DefaultConfig is "loadtest run" with no flags: every transport and the
// reference, 3 interleaved rounds of 0.5 s warm-up and 1.5 s measured, 64
// callers over one client each, servers in their own processes.
func DefaultConfig() Config {
	return Config{
		Transports:  registry.Names(false),
		Reference:   true,
		Rounds:      3,
		Warmup:      500 * time.Millisecond,
		Duration:    1500 * time.Millisecond,
		Concurrency: []int{64},
		Workload:    DefaultWorkload(),
	}
}

// OpenLoop reports whether the run holds fixed rates.
func (c *Config) OpenLoop() bool { return len(c.Rates) > 0 }

// Describe is the table's header.
func (c *Config) Describe() string {
	var b strings.Builder
	if c.OpenLoop() {
		fmt.Fprintf(&b, "open loop at %s calls/s (latency from the intended send time), up to %d in flight", joinFloats(c.Rates), c.Concurrency[0])
	} else {
		fmt.Fprintf(&b, "closed loop, %s callers", joinInts(c.Concurrency))
	}
	if c.Connections > 0 {
		fmt.Fprintf(&b, ", %d connection(s) per transport", c.Connections)
	} else {
		b.WriteString(", each transport's default connections")
	}
	fmt.Fprintf(&b, "; %s\n", c.Workload.Describe())
	where := "servers in their own processes"
	switch {
	case c.Addr != "":
		where = "server already running at " + c.Addr
	case c.InProcess:
		where = "servers in the generator's process"
	}
	if c.IgnoreKeys {
		where += " ignoring idempotency keys"
	}
	if c.Pin {
		where += ", pinned to CPU 0 (generator on the others)"
	}
	res := "off"
	if c.Resilience {
		res = "on"
	}
	fmt.Fprintf(&b, "%d interleaved round(s) of %v warm-up + %v measured; %s; retry/breaker layers %s", c.Rounds, c.Warmup, c.Duration, where, res)
	return b.String()
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func joinFloats(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strings.Join(s, ",")
}

// Validate checks c and resolves its transports.
func (c *Config) Validate() ([]transport.Variant, error) {
	var ts []transport.Variant
	seen := map[string]bool{}
	for _, n := range c.Transports {
		t, ok := registry.Lookup(n)
		if !ok || n == registry.ReferenceName {
			return nil, fmt.Errorf("unknown transport %q (known: %s)", n, strings.Join(registry.Names(false), ", "))
		}
		if seen[n] {
			return nil, fmt.Errorf("transport %q named twice", n)
		}
		seen[n] = true
		ts = append(ts, t)
	}
	if len(ts) == 0 && !c.Reference {
		return nil, errors.New("no transport to run")
	}
	switch {
	case c.Rounds < 1:
		return nil, fmt.Errorf("rounds %d: want at least 1", c.Rounds)
	case c.Duration <= 0:
		return nil, fmt.Errorf("duration %v: want more than 0", c.Duration)
	case c.Warmup < 0:
		return nil, fmt.Errorf("warm-up %v: want 0 or more", c.Warmup)
	case len(c.Concurrency) == 0:
		return nil, errors.New("no concurrency given")
	case c.Connections < 0 || c.Connections > 10_000:
		return nil, fmt.Errorf("connections %d: want 0 (each transport's default) to 10000", c.Connections)
	case c.Timeout < 0:
		return nil, fmt.Errorf("timeout %v: want 0 (none) or more", c.Timeout)
	case c.Workload.Accounts < 1 || c.Workload.Accounts > 999_999_999:
		return nil, fmt.Errorf("accounts %d: want 1 to 999999999", c.Workload.Accounts)
	case c.Workload.Zipf != 0 && c.Workload.Zipf <= 1:
		return nil, fmt.Errorf("zipf %g: want 0 (uniform) or an exponent above 1", c.Workload.Zipf)
	case c.Workload.Amount <= 0 || c.Workload.Amount > bank.MaxDeposit:
		return nil, fmt.Errorf("amount %d: want 1 to %d cents", c.Workload.Amount, bank.MaxDeposit)
	}
	if err := bank.ValidateMonth(c.Workload.Month); err != nil {
		return nil, fmt.Errorf("month: %v", err)
	}
	for _, n := range c.Concurrency {
		if n < 1 || n > 100_000 {
			return nil, fmt.Errorf("concurrency %d: want 1 to 100000", n)
		}
	}
	if c.Addr != "" && (len(ts) != 1 || c.Reference) {
		return nil, errors.New("-addr needs exactly one transport and -no-reference")
	}
	if c.OpenLoop() && len(c.Concurrency) != 1 {
		return nil, errors.New("with -rate, give one -concurrency (the most calls in flight)")
	}
	for _, r := range c.Rates {
		if !(r > 0 && r <= 10_000_000) {
			return nil, fmt.Errorf("rate %g: want more than 0 and at most 10000000 calls/s", r)
		}
	}
	return ts, nil
}

// Progress receives a one-line status while a run goes on.
type Progress func(line string)

// Run measures every transport of c, with the reference, in interleaved
// rounds, and returns the report. If ctx is canceled it stops at once and
// returns what was measured, with Interrupted set.
func Run(ctx context.Context, c Config, progress Progress) (*Report, error) {
	ts, err := c.Validate()
	if err != nil {
		return nil, err
	}
	if c.Reference {
		ts = append([]transport.Variant{registry.Reference}, ts...)
	}
	rep := &Report{Version: ReportVersion, Started: time.Now().UTC(), Env: environment(), Config: c}

	var serverCPUs []int
	if c.Pin {
		if runtime.NumCPU() < 2 {
			return nil, errors.New("-pin needs at least 2 CPUs")
		}
		serverCPUs = []int{0}
		var clientCPUs []int
		for i := 1; i < runtime.NumCPU(); i++ {
			clientCPUs = append(clientCPUs, i)
		}
		prev := runtime.GOMAXPROCS(0)
		if err := server.PinCPUs(clientCPUs); err != nil {
			return nil, err
		}
		defer func() {
			server.PinCPUs(allCPUs())
			runtime.GOMAXPROCS(prev)
		}()
		rep.Env.GOMAXPROCS = runtime.GOMAXPROCS(0)
	}

	servers := make([]server.Handle, len(ts))
	defer func() {
		for _, s := range servers {
			if s != nil {
				s.Close()
			}
		}
	}()
	for i, t := range ts {
		if progress != nil {
			progress(fmt.Sprintf("starting %s server", t.Name))
		}
		sc := server.Config{Transport: t.Name, Accounts: c.Workload.Accounts, Store: c.Store, CPUs: serverCPUs, IgnoreKeys: c.IgnoreKeys}
		switch {
		case c.Addr != "":
			servers[i] = server.External(c.Addr)
		case c.InProcess:
			servers[i], err = server.StartInProcess(sc)
		default:
			var ch *server.Child
			if ch, err = server.StartChild(sc); err == nil {
				servers[i] = ch // not a nil *Child in the interface
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
	}

	accounts := accountTable(c.Workload.Accounts)
	type point struct {
		conc int
		rate float64
	}
	var points []point
	if c.OpenLoop() {
		for _, r := range c.Rates {
			points = append(points, point{c.Concurrency[0], r})
		}
	} else {
		for _, n := range c.Concurrency {
			points = append(points, point{conc: n})
		}
	}
	runID := uint64(time.Now().UnixNano())
	total := len(points) * c.Rounds * len(ts)
	done := 0
	for _, p := range points {
		results := make([]*Result, len(ts))
		for i, t := range ts {
			results[i] = &Result{Transport: t.Name, Concurrency: p.conc, Rate: p.rate, Connections: c.Connections}
			rep.Results = append(rep.Results, results[i])
		}
	rounds:
		for round := 1; round <= c.Rounds; round++ {
			for i, t := range ts {
				if ctx.Err() != nil {
					break rounds
				}
				runID++
				l := Load{Workload: c.Workload, Concurrency: p.conc, Rate: p.rate, Warmup: c.Warmup, Duration: c.Duration, Timeout: c.Timeout, RunID: runID}
				label := fmt.Sprintf("[%d/%d] round %d/%d %s", done+1, total, round, c.Rounds, t.Name)
				s, err := measure(ctx, t, servers[i], &c, l, accounts, label, progress)
				done++
				if err != nil {
					return nil, fmt.Errorf("%s: %w", t.Name, err)
				}
				if s.ElapsedNs <= 0 {
					continue // cut off before the window began
				}
				s.Round = round
				results[i].Samples = append(results[i].Samples, s)
			}
			if c.Reference {
				setRefRatios(results, round)
			}
		}
		for _, r := range results {
			r.Summarize()
		}
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
	}
	var errs []error
	for i, s := range servers {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ts[i].Name, err))
		}
		servers[i] = nil
	}
	return rep, errors.Join(errs...)
}

func allCPUs() []int {
	cs := make([]int, runtime.NumCPU())
	for i := range cs {
		cs[i] = i
	}
	return cs
}

// setRefRatios sets each sample's throughput ratio to the reference's in
// the same round: the rounds are interleaved, so that is the fair ratio.
func setRefRatios(results []*Result, round int) {
	var ref *Sample
	for _, s := range results[0].Samples {
		if s.Round == round {
			ref = s
		}
	}
	if ref == nil || ref.Throughput == 0 {
		return
	}
	for _, r := range results {
		for _, s := range r.Samples {
			if s.Round == round {
				s.RefRatio = s.Throughput / ref.Throughput
			}
		}
	}
}

// measure runs one transport once: dial, warm up, measure, close.
func measure(ctx context.Context, t transport.Variant, srv server.Handle, c *Config, l Load, accounts []bank.AccountNo, label string, progress Progress) (*Sample, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// -connections n: a pool of n where the transport has one, else n
	// clients with the callers spread over them.
	var cc transport.ClientConfig
	nclients := 1
	if c.Connections > 0 {
		if t.Pooled {
			cc.Conns = c.Connections
		} else {
			nclients = c.Connections
		}
	}
	dial := t.DialFunc(cc)
	clients := make([]bank.Bank, 0, nclients)
	var closers []func() error
	defer func() {
		for _, f := range closers {
			f()
		}
	}()
	var rstats resilience.Stats
	var breakerChanges atomic.Int64
	for range nclients {
		cl, err := dial(dctx, srv.Addr())
		if err != nil {
			if ctx.Err() != nil {
				return &Sample{}, nil
			}
			return nil, fmt.Errorf("dial %s: %w", srv.Addr(), err)
		}
		closers = append(closers, cl.Close)
		var b bank.Bank = cl
		if c.Resilience {
			b = resilience.Wrap(cl, resilience.WithStats(&rstats), resilience.WithHooks(resilience.Hooks{
				StateChange: func(_, _ resilience.BreakerState) { breakerChanges.Add(1) },
			}))
		}
		clients = append(clients, b)
	}

	var mu sync.Mutex
	var cs0, cs1, ss0, ss1 server.ProcStats
	var haveStart, haveEnd bool
	var statErr error
	var r0 int64
	hook := func(start bool) {
		cs := server.ReadProcStats()
		ss, err := srv.Stats()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			statErr = err
		}
		if start {
			cs0, ss0, haveStart = cs, ss, true
			r0 = rstats.Retries.Load()
		} else {
			cs1, ss1, haveEnd = cs, ss, true
		}
	}
	stopProgress := startProgress(progress, label, l)
	st := runLoad(ctx, clients, l, accounts, hook)
	stopProgress()
	if !haveStart {
		return &Sample{}, nil
	}
	if !haveEnd {
		hook(false)
	}
	if statErr != nil {
		return nil, fmt.Errorf("server stats: %w", statErr)
	}
	s := &Sample{
		ElapsedNs:     int64(st.elapsed),
		Calls:         st.calls(),
		Errors:        st.errors(),
		Late:          st.late,
		Unsent:        st.unsent,
		ClientCPUNs:   cs1.CPUNs() - cs0.CPUNs(),
		ClientAllocs:  cs1.AllocObjects - cs0.AllocObjects,
		BytesIn:       ss1.BytesIn - ss0.BytesIn,
		BytesOut:      ss1.BytesOut - ss0.BytesOut,
		ServerOwnProc: srv.OwnProcess(),
		Ops:           map[string]*OpResult{},
		Retries:       rstats.Retries.Load() - r0,
		BreakerChgs:   breakerChanges.Load(),
	}
	if srv.OwnProcess() {
		s.ServerCPUNs = ss1.CPUNs() - ss0.CPUNs()
		s.ServerAllocs = ss1.AllocObjects - ss0.AllocObjects
		s.ServerRSSBytes = ss1.RSSBytes
	}
	if st.elapsed > 0 {
		s.Throughput = float64(s.Calls) / st.elapsed.Seconds()
	}
	all := hdrNew()
	var allErrs [numCodes]uint64
	for op := range st.ops {
		o := &st.ops[op]
		s.Ops[bank.Op(op).String()] = opResult(o.hist, &o.errors, o.calls)
		all.Merge(o.hist)
		for c, n := range o.errors {
			allErrs[c] += n
		}
	}
	s.Ops["all"] = opResult(all, &allErrs, s.Calls)
	if st.service != nil {
		s.ServiceLatency = opResult(st.service, &[numCodes]uint64{}, s.Calls)
	}
	return s, nil
}

func codeName(c int) string { return bank.Code(c).String() }

func startProgress(progress Progress, label string, l Load) func() {
	if progress == nil {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		var last uint64
		lastT := start
		for {
			select {
			case <-stop:
				return
			case now := <-tk.C:
				n := progressCalls()
				rate := float64(n-last) / now.Sub(lastT).Seconds()
				last, lastT = n, now
				phase := "warm-up"
				if now.Sub(start) >= l.Warmup {
					phase = "measuring"
				}
				progress(fmt.Sprintf("%s c=%d %s: %d calls, %.0f/s", label, l.Concurrency, phase, n, rate))
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// platformLimits lists what this OS lacks of what a run does on Linux;
// nil on Linux.
func platformLimits() []string {
	var l []string
	if !server.PinAvailable {
		l = append(l, "CPU pinning: unavailable on "+runtime.GOOS)
	}
	if !precisePacing {
		l = append(l, "pacing: time.Sleep (coarse) on "+runtime.GOOS+", not nanosleep with 1 ns timer slack")
	}
	if !server.RSSAvailable {
		l = append(l, "server RSS: unavailable on "+runtime.GOOS)
	}
	return l
}

func environment() Environment {
	e := Environment{
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		CPUModel:   server.CPUModel(),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Args:       os.Args[1:],
		Limits:     platformLimits(),
	}
	e.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(b))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				e.Commit = s.Value
			}
			if s.Key == "vcs.modified" && s.Value == "true" && e.Commit != "" {
				e.Commit += "-dirty"
			}
		}
	}
	if e.Commit == "" {
		if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
			e.Commit = strings.TrimSpace(string(out))
		}
	}
	return e
}
