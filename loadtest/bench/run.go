package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/metrics"
	"github.com/igbank/igbank/common/netem"
	"github.com/igbank/igbank/common/pace"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
)

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
	rep := &Report{Kind: Kind, Format: Format, Started: time.Now().UTC(), Env: CurrentEnvironment(), Config: c}
	tr, err := startTracing(c.OTLP)
	if err != nil {
		return nil, err
	}
	defer tr.close(progress) // deferred first: runs after the servers have stopped
	var mc *metrics.Client
	if c.Metrics != "" {
		reg := metrics.NewRegistry()
		mc = metrics.NewClient(reg)
		e, err := metrics.Listen(c.Metrics, reg, nil)
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		defer e.Close()
		if progress != nil {
			progress(fmt.Sprintf("client metrics at http://%s/metrics", e.Addr()))
		}
	}

	var serverCPUs []int
	if c.Pin {
		if runtime.NumCPU() < 2 {
			return nil, ErrPinCPUs
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

	modes := c.Security
	if len(modes) == 0 {
		modes = []string{SecurityPlain}
	}
	churns := c.Churn
	if len(churns) == 0 {
		churns = []bool{false}
	}
	networks := c.Networks
	if len(networks) == 0 {
		networks = []string{netem.Loopback.String()}
	}
	rowsList := c.StatementRows
	if rowsList == nil {
		rowsList = []int{-1} // nothing seeded
	}
	// Every server setting that varies: the servers are started once for
	// each combination, and every load point runs against them.
	type serverKey struct {
		mode, network string
		rows          int
	}
	var keysOrder []serverKey
	for _, m := range modes {
		for _, n := range networks {
			for _, r := range rowsList {
				keysOrder = append(keysOrder, serverKey{m, n, r})
			}
		}
	}
	var keys *pki
	for _, m := range modes {
		if m != SecurityPlain && keys == nil {
			if keys, err = newPKI(); err != nil {
				return nil, err
			}
			defer keys.close()
		}
	}

	accounts := accountTable(c.Workload.Accounts)
	type point struct {
		conns int // 0: each transport's default
		conc  int
		rate  float64
	}
	var points []point
	for _, conns := range c.Connections.Or(0) {
		if c.OpenLoop() {
			for _, r := range c.Rates {
				points = append(points, point{conns, c.Concurrency[0], r})
			}
		} else {
			for _, n := range c.Concurrency {
				points = append(points, point{conns: conns, conc: n})
			}
		}
	}
	runID := uint64(time.Now().UnixNano())
	total := len(keysOrder) * len(churns) * len(points) * c.Rounds * len(ts)
	done := 0
	var errs []error
modes:
	for _, key := range keysOrder {
		mode := key.mode
		// The servers of a mode, network and statement size, one per
		// transport, for all their points.
		profile, _ := netem.Parse(key.network) // Validate parsed it
		var stmts *server.Statements
		if key.rows >= 0 {
			stmts = &server.Statements{Month: c.Workload.Month, Accounts: server.StatementAccounts(c.Workload.Accounts, key.rows), Rows: key.rows}
		}
		servers, err := startServers(ts, &c, keys, mode, profile, stmts, serverCPUs, tr.url, progress)
		if err != nil {
			return nil, err
		}
		clients := make([]transport.ClientConfig, len(ts))
		for i, t := range ts {
			if keys != nil {
				if clients[i], err = keys.clientConfig(mode, t.Name); err != nil {
					closeServers(servers, ts)
					return nil, err
				}
			}
			if t.Name != registry.ReferenceName {
				clients[i].Tracer = tr.tp
			}
		}
		for _, churn := range churns {
			for _, p := range points {
				results := make([]*Result, len(ts))
				for i, t := range ts {
					results[i] = &Result{Transport: t.Name, Concurrency: p.conc, Rate: p.rate, Connections: p.conns, Churn: churn, Network: profile.String(), StatementRows: max(key.rows, 0)}
					if mode != SecurityPlain {
						results[i].Security = mode
					}
					rep.Results = append(rep.Results, results[i])
				}
			rounds:
				for round := 1; round <= c.Rounds; round++ {
					for i, t := range ts {
						if ctx.Err() != nil {
							break rounds
						}
						runID++
						l := load{Workload: c.Workload, Concurrency: p.conc, Rate: p.rate, Warmup: c.Warmup, Duration: c.Duration, Timeout: c.Timeout, RunID: runID}
						if stmts != nil {
							// Statements go to the seeded accounts, in the
							// largest pages: a call carries up to
							// bank.MaxPageSize of the month's rows.
							l.StatementAccounts, l.PageSize = stmts.Accounts, bank.MaxPageSize
						}
						label := fmt.Sprintf("[%d/%d] round %d/%d %s", done+1, total, round, c.Rounds, t.Name)
						s, err := measure(ctx, t, servers[i], &c, clients[i], mc, p.conns, churn, l, accounts, label, progress)
						done++
						if err != nil {
							closeServers(servers, ts)
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
					errs = append(errs, closeServers(servers, ts))
					break modes
				}
			}
		}
		errs = append(errs, closeServers(servers, ts))
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
	}
	return rep, errors.Join(errs...)
}

// startServers starts the server of each transport of the run for
// security mode m, under network profile profile, with the statements stmts
// seeded (nil: none).
func startServers(ts []transport.Variant, c *Config, keys *pki, m string, profile netem.Profile, stmts *server.Statements, cpus []int, otlp string, progress Progress) ([]server.Handle, error) {
	servers := make([]server.Handle, len(ts))
	for i, t := range ts {
		if progress != nil {
			progress(fmt.Sprintf("starting %s server", t.Name))
		}
		sc := server.Config{Transport: t.Name, Accounts: c.Workload.Accounts, Store: c.Store, CPUs: cpus, IgnoreKeys: c.IgnoreKeys, MaxConns: c.MaxConns, Network: profile, Statements: stmts,
			Shed: c.Shed, Backend: c.Backend}
		if c.Metrics != "" {
			sc.Metrics = "127.0.0.1:0"
		}
		if keys != nil && t.Name != registry.ReferenceName {
			sc.Security = keys.serverSecurity(m, t.Name)
		}
		if t.Name != registry.ReferenceName {
			sc.OTLP = otlp
		}
		var err error
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
			closeServers(servers, ts)
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	return servers, nil
}

// closeServers closes every server started, and returns their errors.
func closeServers(servers []server.Handle, ts []transport.Variant) error {
	var errs []error
	for i, s := range servers {
		if s == nil {
			continue
		}
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ts[i].Name, err))
		}
		servers[i] = nil
	}
	return errors.Join(errs...)
}

func allCPUs() []int {
	cs := make([]int, runtime.NumCPU())
	for i := range cs {
		cs[i] = i
	}
	return cs
}

// setRefRatios sets each sample's ratio of successful calls per second to
// the reference's in the same round: the rounds are interleaved, so that
// is the fair ratio, and a transport that fails calls does not look as
// fast as the yardstick.
func setRefRatios(results []*Result, round int) {
	var ref *Sample
	for _, s := range results[0].Samples {
		if s.Round == round {
			ref = s
		}
	}
	if ref == nil || ref.Successful() == 0 {
		return
	}
	for _, r := range results {
		for _, s := range r.Samples {
			if s.Round == round {
				s.RefRatio = s.Successful() / ref.Successful()
			}
		}
	}
}

// measure runs one transport once: dial, warm up, measure, close.
func measure(ctx context.Context, t transport.Variant, srv server.Handle, c *Config, cc transport.ClientConfig, mc *metrics.Client, conns int, churned bool, l load, accounts []bank.AccountNo, label string, progress Progress) (*Sample, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Connections n: a pool of n where the transport has one, else n
	// clients with the callers spread over them.
	nclients := 1
	if conns > 0 {
		if t.Pooled {
			cc.Conns = conns
		} else {
			nclients = conns
		}
	}
	dial := t.DialFunc(cc)
	// The server's settled memory before any connection of this
	// measurement: the idle server that per-connection figures start from.
	settled, _ := srv.(interface {
		SettledStats() (server.ProcStats, error)
	})
	perConn := conns > 0 && !churned && settled != nil
	var idle *ConnStats
	if perConn {
		ps, err := settled.SettledStats()
		if err != nil {
			return nil, fmt.Errorf("server stats: %w", err)
		}
		idle = connStats(ps)
	}
	var rstats resilience.Stats
	var breakerChanges atomic.Int64
	var clients []bank.Bank
	var closers []func() error
	defer func() {
		for _, f := range closers {
			f()
		}
	}()
	openConns := conns
	if churned {
		// A new connection for every call: nothing to dial now.
		for range nclients {
			var b bank.Bank = churn{dial: dial, addr: srv.Addr()}
			if mc != nil {
				b = mc.Bank(t.Name, b)
			}
			clients = append(clients, traces.Bank(b, cc.Tracer))
		}
	} else {
		cls, failed := dialAll(dctx, dial, srv.Addr(), nclients)
		if ctx.Err() != nil {
			for _, cl := range cls {
				if cl != nil {
					cl.Close()
				}
			}
			return &Sample{}, nil
		}
		if failed == nclients && conns == 0 {
			// One client, and it cannot connect: nothing to measure.
			return nil, fmt.Errorf("dial %s: %w", srv.Addr(), cls[0].(unconnected).err)
		}
		if !t.Pooled {
			openConns -= failed
		}
		for _, cl := range cls {
			closers = append(closers, cl.Close)
			var b bank.Bank = cl
			if c.Resilience {
				opts := []resilience.Option{resilience.WithStats(&rstats), resilience.WithHooks(resilience.Hooks{
					StateChange: func(_, _ resilience.BreakerState) { breakerChanges.Add(1) },
				})}
				if mc != nil {
					opts = append(opts, resilience.WithHooks(mc.Hooks(t.Name)))
				}
				b = resilience.Wrap(cl, opts...)
			}
			if mc != nil {
				b = mc.Bank(t.Name, b)
			}
			// The call's span, outermost (nil Tracer: b itself).
			clients = append(clients, traces.Bank(b, cc.Tracer))
		}
	}

	var mu sync.Mutex
	var cs0, cs1, ss0, ss1 server.ProcStats
	var haveStart, haveEnd bool
	var statErr error
	var r0 int64
	// The server's accounting must come within a tenth of the window of
	// the generator's own, or it does not bracket the same calls.
	lateAfter := max(l.Duration/10, 20*time.Millisecond)
	var late bool
	hook := func(start bool) {
		cs := server.ReadProcStats()
		t0 := time.Now()
		ss, err := srv.Stats()
		took := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			statErr = err
		}
		if took > lateAfter {
			late = true
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
	var connected *ConnStats
	// Only a point where every call succeeded is known to have had all
	// its connections served: a refused one would count but cost nothing.
	if perConn && openConns > 0 && st.errors() == 0 {
		// Every connection is still open, and quiet: what a server keeps
		// for a connection once its calls are over, after the time a
		// server may take to give back what a burst needed.
		if !SleepUntil(ctx, time.Now().Add(QuietBeforeSettle)) {
			return &Sample{}, nil
		}
		ps, err := settled.SettledStats()
		if err != nil {
			return nil, fmt.Errorf("server stats: %w", err)
		}
		connected = connStats(ps)
	}
	s := &Sample{
		ElapsedNs:     int64(st.elapsed),
		Calls:         st.calls(),
		Errors:        st.errors(),
		Late:          st.late,
		Unsent:        st.unsent,
		Stuck:         st.stuck,
		ClientCPUNs:   cs1.CPUNs() - cs0.CPUNs(),
		ClientAllocs:  cs1.AllocObjects - cs0.AllocObjects,
		BytesIn:       ss1.BytesIn - ss0.BytesIn,
		BytesOut:      ss1.BytesOut - ss0.BytesOut,
		ServerOwnProc: srv.OwnProcess(),
		Ops:           map[string]*OpResult{},
		Retries:       rstats.Retries.Load() - r0,
		BreakerChgs:   breakerChanges.Load(),
	}
	if connected != nil {
		s.Idle, s.Connected, s.OpenConns = idle, connected, openConns
	}
	if srv.OwnProcess() {
		s.ServerRSSBytes = ss1.RSSBytes
	}
	if late {
		s.BytesIn, s.BytesOut, s.ServerLate = 0, 0, true
	} else if srv.OwnProcess() {
		s.ServerCPUNs = ss1.CPUNs() - ss0.CPUNs()
		s.ServerAllocs = ss1.AllocObjects - ss0.AllocObjects
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
	if st.failed != nil {
		s.Succeeded = opResult(withoutFailed(all, st.failed), &[numCodes]uint64{}, s.Calls-s.Errors)
	}
	if st.service != nil {
		s.ServiceLatency = opResult(st.service, &[numCodes]uint64{}, s.Calls)
	}
	return s, nil
}

func connStats(p server.ProcStats) *ConnStats {
	return &ConnStats{RSSBytes: p.RSSBytes, LiveHeapBytes: p.LiveHeapBytes, Goroutines: p.Goroutines}
}

// QuietBeforeSettle is how long connections are left quiet before the
// server's memory per connection is read: raw sockets, for one, let a
// connection's idle workers go after a second.
var QuietBeforeSettle = 1500 * time.Millisecond

// dialParallel is how many dials dialAll has in progress at once.
const dialParallel = 32

// dialAll dials n clients of addr, dialParallel at a time, and returns
// them with the number that failed. A client that could not connect is
// an unconnected client: its callers cannot start a call, and each counts
// as an error once the run's own deadline passes.
func dialAll(ctx context.Context, dial transport.DialFunc, addr string, n int) ([]transport.Client, int) {
	cls := make([]transport.Client, n)
	var failed atomic.Int64
	sem := make(chan struct{}, dialParallel)
	var wg sync.WaitGroup
	for i := range cls {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			cl, err := dial(ctx, addr)
			if err != nil {
				failed.Add(1)
				cl = unconnected{err: err}
			}
			cls[i] = cl
		}()
	}
	wg.Wait()
	return cls, int(failed.Load())
}

// unconnected is a client whose dial failed: every call waits for the
// caller's deadline (the run's own), then fails with the dial's error as
// unavailable.
type unconnected struct{ err error }

func (u unconnected) fail(ctx context.Context) error {
	<-ctx.Done()
	return bank.Errorf(bank.Unavailable, "could not connect: %v", u.err)
}

func (u unconnected) Balance(ctx context.Context, _ bank.AccountNo) (bank.Money, error) {
	return 0, u.fail(ctx)
}

func (u unconnected) Statement(ctx context.Context, _ bank.StatementRequest) (bank.Statement, error) {
	return bank.Statement{}, u.fail(ctx)
}

func (u unconnected) Deposit(ctx context.Context, _ bank.DepositRequest) (bank.DepositReceipt, error) {
	return bank.DepositReceipt{}, u.fail(ctx)
}

func (u unconnected) Close() error { return nil }

func codeName(c int) string { return bank.Code(c).String() }

func startProgress(progress Progress, label string, l load) func() {
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
	if !pace.Precise {
		l = append(l, "pacing: time.Sleep (coarse) on "+runtime.GOOS+", not nanosleep with 1 ns timer slack")
	}
	if !server.RSSAvailable {
		l = append(l, "server RSS: unavailable on "+runtime.GOOS)
	}
	return l
}

// CurrentEnvironment describes this process's machine, Go and build: the
// environment a report is taken in.
func CurrentEnvironment() Environment {
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
