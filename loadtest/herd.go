package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/chart"
	"github.com/igbank/igbank/loadtest/page"
	"github.com/igbank/igbank/loadtest/registry"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// The thundering herd: many clients whose calls failed together retry
// together. "loadtest herd" starts one transport's server on loopback,
// makes it answer every call with Unavailable for an outage, lets N clients
// make one Balance each at the moment the outage starts, and records when
// every attempt left its client. Run once per jitter mode, the attempts per
// 10 ms bucket show the synchronised waves of plain exponential backoff and
// the smoothed load of jittered backoff.
//
// The outage is a server-side decorator rather than a closed listener, so
// that every retry is a real call over the transport that the server
// receives and answers (a closed port would make the retries dial errors
// the server never sees). The server counts what it receives, and the
// report checks that against the clients' counts.
//
// Each client has its own resilience.Wrap (its own connection, its own
// jitter source) with the retry budget and the breaker turned off. The
// budget is meant to be shared by every call to one target; shared by the
// 200 clients it would be spent after about five failed attempts and turn
// every later call into a single attempt, and even one budget per client
// stops a client after five failures, before a one-second outage ends:
// either way it would hide the herd this command is meant to show. (That
// the budget bounds retries in an outage is shown by the outage scenario.)

// HerdConfig is one "loadtest herd" experiment.
type HerdConfig struct {
	Transport string
	Clients   int
	Outage    time.Duration
	Bucket    time.Duration
	Modes     []resilience.Jitter
	// Policy is the retry policy; its Jitter is set per mode.
	Policy resilience.RetryPolicy
	// Timeout is every call's deadline (0: 4×Outage + 10s).
	Timeout time.Duration
	// Seed seeds the jitter: client i of every mode draws from
	// PCG(Seed, i).
	Seed uint64
	// Capacity, if positive, is the most calls the server answers per
	// Bucket once it is back; it sheds the others with Unavailable, as a
	// recovering server that cannot take the whole crowd at once.
	Capacity int
}

// DefaultHerdConfig returns the defaults of "loadtest herd".
func DefaultHerdConfig() HerdConfig {
	return HerdConfig{
		Transport: "raw",
		Clients:   200,
		Outage:    time.Second,
		Bucket:    10 * time.Millisecond,
		Modes:     []resilience.Jitter{resilience.JitterNone, resilience.JitterFull, resilience.JitterEqual, resilience.JitterDecorrelated},
		Policy: resilience.RetryPolicy{
			MaxAttempts:    64,
			InitialBackoff: 10 * time.Millisecond,
			MaxBackoff:     time.Second,
			Multiplier:     2,
		},
		Seed: 1,
	}
}

// HerdRun is what one jitter mode did.
type HerdRun struct {
	Jitter    string `json:"jitter"`
	Clients   int    `json:"clients"`
	Succeeded int    `json:"succeeded"`
	// Attempts counts the attempts the clients made, ServerCalls the calls
	// the server received (equal unless a call was lost on the way).
	Attempts    int `json:"attempts"`
	ServerCalls int `json:"server_calls"`
	// Shed counts the calls the server turned away after the outage, for
	// want of capacity (with HerdConfig.Capacity).
	Shed int `json:"shed"`
	// MaxAttempts is the most attempts one client made.
	MaxAttempts int `json:"max_attempts_per_client"`
	// Peak is the most attempts in one bucket, first attempts included
	// (they all fall in the first bucket, whatever the jitter);
	// PeakRetries counts retries only; PeakRecovery counts the buckets
	// from the end of the outage on: the load on the recovering server.
	Peak         int `json:"peak"`
	PeakRetries  int `json:"peak_retries"`
	PeakRecovery int `json:"peak_recovery"`
	// DrainMs is the time from the outage's start until the last client
	// succeeded (or gave up), in milliseconds.
	DrainMs float64 `json:"drain_ms"`
	// Buckets are the attempts that started in each bucket, from the
	// outage's start.
	Buckets []int `json:"buckets"`
	// Errors counts the failed calls by code.
	Errors map[string]int `json:"errors,omitempty"`
}

// HerdReport is the outcome of "loadtest herd".
type HerdReport struct {
	Transport string            `json:"transport"`
	Clients   int               `json:"clients"`
	OutageMs  float64           `json:"outage_ms"`
	BucketMs  float64           `json:"bucket_ms"`
	Policy    string            `json:"policy"`
	Seed      uint64            `json:"seed"`
	Capacity  int               `json:"capacity,omitempty"`
	Started   time.Time         `json:"started"`
	Env       bench.Environment `json:"env"`
	Runs      []HerdRun         `json:"runs"`
}

func (c *HerdConfig) policyText() string {
	p := c.Policy
	return fmt.Sprintf("max attempts %d, backoff %v×%g up to %v, no retry budget, no breaker, call deadline %v",
		p.MaxAttempts, p.InitialBackoff, p.Multiplier, p.MaxBackoff, c.timeout())
}

func (c *HerdConfig) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 4*c.Outage + 10*time.Second
}

// outageBank answers every call with Unavailable until its outage ends,
// then, with a capacity, sheds the calls over capacity per window; it
// counts the calls it receives.
type outageBank struct {
	bank.Bank
	until    atomic.Int64 // unix nanoseconds; 0: no outage
	calls    atomic.Int64
	capacity int64
	window   int64 // nanoseconds
	mu       sync.Mutex
	win, n   int64 // the current window and the calls answered in it
	shed     int64
}

var (
	errOutage = bank.FromCode(bank.Unavailable, "outage")
	errShed   = bank.FromCode(bank.Unavailable, "over capacity")
)

func (o *outageBank) down() error {
	o.calls.Add(1)
	u := o.until.Load()
	if u == 0 {
		return nil
	}
	now := time.Now().UnixNano()
	if now < u {
		return errOutage
	}
	if o.capacity <= 0 {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if w := now / o.window; w != o.win {
		o.win, o.n = w, 0
	}
	if o.n >= o.capacity {
		o.shed++
		return errShed
	}
	o.n++
	return nil
}

func (o *outageBank) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if err := o.down(); err != nil {
		return 0, err
	}
	return o.Bank.Balance(ctx, acc)
}

func (o *outageBank) Statement(ctx context.Context, acc bank.AccountNo, m bank.Month) (bank.Statement, error) {
	if err := o.down(); err != nil {
		return bank.Statement{}, err
	}
	return o.Bank.Statement(ctx, acc, m)
}

func (o *outageBank) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if err := o.down(); err != nil {
		return bank.DepositReceipt{}, err
	}
	return o.Bank.Deposit(ctx, req)
}

// attemptClock sits under a client's retry layer and notes when each
// attempt leaves, relative to the outage's start.
type attemptClock struct {
	bank.Bank
	start  *time.Time
	starts []time.Duration
}

func (a *attemptClock) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	a.starts = append(a.starts, time.Since(*a.start))
	return a.Bank.Balance(ctx, acc)
}

// RunHerd runs the experiment once per jitter mode.
func RunHerd(ctx context.Context, c HerdConfig) (*HerdReport, error) {
	t, ok := registry.Lookup(c.Transport)
	if !ok || c.Transport == registry.ReferenceName {
		return nil, fmt.Errorf("unknown transport %q (known: %s)", c.Transport, strings.Join(registry.Names(false), ", "))
	}
	if c.Clients < 1 || c.Outage <= 0 || c.Bucket <= 0 || c.Capacity < 0 || len(c.Modes) == 0 {
		return nil, errors.New("herd: want clients ≥ 1, outage > 0, bucket > 0 and at least one jitter mode")
	}
	rep := &HerdReport{
		Transport: c.Transport, Clients: c.Clients, OutageMs: herdMs(c.Outage), BucketMs: herdMs(c.Bucket),
		Policy: c.policyText(), Seed: c.Seed, Capacity: c.Capacity, Started: time.Now().UTC(), Env: bench.CurrentEnvironment(),
	}
	for _, j := range c.Modes {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r, err := herdOnce(ctx, t, &c, j)
		if err != nil {
			return rep, fmt.Errorf("jitter %v: %w", j, err)
		}
		rep.Runs = append(rep.Runs, *r)
	}
	return rep, nil
}

func herdMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func herdOnce(ctx context.Context, t transport.Variant, c *HerdConfig, j resilience.Jitter) (*HerdRun, error) {
	accounts := min(c.Clients, 100)
	ob := &outageBank{Bank: bank.NewService(ledger.NewMemory(accounts)), capacity: int64(c.Capacity), window: int64(c.Bucket)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := t.NewServer(ob, transport.ServerConfig{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-served
	}()

	// One connection per client, each warmed by a call before the outage
	// (so lazy dialers have connected and the outage meets open
	// connections, as it would in production).
	var start time.Time
	clocks := make([]*attemptClock, c.Clients)
	wrapped := make([]bank.Bank, c.Clients)
	var mu sync.Mutex
	errs := map[string]int{}
	done := make([]time.Duration, c.Clients)
	attempts := make([]int, c.Clients)
	pol := c.Policy
	pol.Jitter = j
	for i := range c.Clients {
		cl, err := t.Dial(ctx, ln.Addr().String(), transport.ClientConfig{})
		if err != nil {
			closeAll(clocks)
			return nil, fmt.Errorf("dial: %w", err)
		}
		acc := ledger.SeedAccount(i%accounts + 1)
		if _, err := cl.Balance(ctx, acc); err != nil {
			cl.Close()
			closeAll(clocks)
			return nil, fmt.Errorf("warm-up call: %w", err)
		}
		clocks[i] = &attemptClock{Bank: cl, start: &start}
		i := i
		wrapped[i] = resilience.Wrap(clocks[i],
			resilience.WithRetry(pol), resilience.WithoutBudget(), resilience.WithoutBreaker(),
			resilience.WithRand(rand.New(rand.NewPCG(c.Seed, uint64(i)))),
			resilience.WithHooks(resilience.Hooks{
				Attempt: func(_ bank.Op, n int, err error) {
					attempts[i] = n
					if err == nil {
						done[i] = time.Since(start)
					}
				},
				GiveUp: func(_ bank.Op, _ int, _ resilience.GiveUp, err error) {
					done[i] = time.Since(start)
					mu.Lock()
					errs[bank.CodeOf(err).String()]++
					mu.Unlock()
				},
			}))
	}
	defer closeAll(clocks)
	ob.calls.Store(0)

	var wg sync.WaitGroup
	ready := make(chan struct{})
	var ok atomic.Int64
	for i := range c.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			cctx, cancel := context.WithTimeout(ctx, c.timeout())
			defer cancel()
			if _, err := wrapped[i].Balance(cctx, ledger.SeedAccount(i%accounts+1)); err == nil {
				ok.Add(1)
			}
		}()
	}
	start = time.Now()
	ob.until.Store(start.Add(c.Outage).UnixNano())
	close(ready)
	wg.Wait()

	ob.mu.Lock()
	shed := int(ob.shed)
	ob.mu.Unlock()
	r := &HerdRun{Jitter: j.String(), Clients: c.Clients, Succeeded: int(ok.Load()), ServerCalls: int(ob.calls.Load()), Shed: shed}
	if len(errs) > 0 {
		r.Errors = errs
	}
	var drain time.Duration
	for i, cl := range clocks {
		r.Attempts += len(cl.starts)
		r.MaxAttempts = max(r.MaxAttempts, attempts[i])
		drain = max(drain, done[i])
	}
	r.DrainMs = herdMs(drain)
	n := int(drain/c.Bucket) + 1
	all, retries := make([]int, n), make([]int, n)
	for _, cl := range clocks {
		for k, s := range cl.starts {
			b := min(int(s/c.Bucket), n-1)
			all[b]++
			if k > 0 {
				retries[b]++
			}
		}
	}
	recovery := int(c.Outage / c.Bucket)
	for b := range all {
		r.Peak = max(r.Peak, all[b])
		r.PeakRetries = max(r.PeakRetries, retries[b])
		if b >= recovery {
			r.PeakRecovery = max(r.PeakRecovery, all[b])
		}
	}
	r.Buckets = all
	return r, nil
}

func closeAll(cs []*attemptClock) {
	for _, c := range cs {
		if c != nil {
			if cl, ok := c.Bank.(interface{ Close() error }); ok {
				cl.Close()
			}
		}
	}
}

// WriteHerdText writes the summary table.
func WriteHerdText(w io.Writer, r *HerdReport) error {
	bucket := time.Duration(r.BucketMs * float64(time.Millisecond))
	fmt.Fprintf(w, "%d clients on %s, one Balance each at the start of a %v outage; attempts per %v bucket.\nPolicy: %s.\n",
		r.Clients, r.Transport, time.Duration(r.OutageMs*float64(time.Millisecond)), bucket, r.Policy)
	if r.Capacity > 0 {
		fmt.Fprintf(w, "Once back, the server answers at most %d calls per %v and sheds the rest with Unavailable.\n", r.Capacity, bucket)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "jitter\tsucceeded\tattempts\tserver calls\tshed\tmax/client\tpeak\tpeak retries\tpeak after recovery\tdrain ms\t")
	for _, x := range r.Runs {
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t\n", x.Jitter, x.Succeeded, x.Clients, x.Attempts, x.ServerCalls, x.Shed, x.MaxAttempts, x.Peak, x.PeakRetries, x.PeakRecovery, x.DrainMs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, x := range r.Runs {
		for code, n := range x.Errors {
			fmt.Fprintf(w, "jitter %s: %d calls failed with %s\n", x.Jitter, n, code)
		}
	}
	return nil
}

// herdChart draws attempts per bucket, one line per jitter mode, and a
// dashed line where the server came back.
func herdChart(r *HerdReport) string {
	var ss []chart.Series
	var xs, ys []float64
	for i, x := range r.Runs {
		s := chart.Series{Name: "jitter " + x.Jitter, Color: chart.Color(i)}
		for b, n := range x.Buckets {
			s.Points = append(s.Points, chart.Point{X: float64(b) * r.BucketMs, Y: float64(n)})
			xs = append(xs, float64(b)*r.BucketMs)
			ys = append(ys, float64(n))
		}
		ss = append(ss, s)
	}
	return chart.Lines{
		Title:  fmt.Sprintf("Attempts per %g ms, %d clients, %g ms outage (%s)", r.BucketMs, r.Clients, r.OutageMs, r.Transport),
		XLabel: "time since the outage began (ms)", YLabel: "attempts started", Series: ss,
		X: chart.NiceAxis(xs, false), Y: chart.NiceAxis(ys, false),
		YFormat: func(v float64) string { return fmt.Sprintf("%.0f", v) },
		Marks:   []chart.Mark{chart.Rule{At: r.OutageMs, Color: "#000", Label: "server back"}},
	}.SVG()
}

// WriteHerdHTML writes a self-contained page: the table and the chart.
func WriteHerdHTML(w io.Writer, r *HerdReport) error {
	p := page.New("Backoff and jitter: a herd of clients against a recovering server")
	var text strings.Builder
	WriteHerdText(&text, r)
	p.Printf("<pre>%s</pre>\n", html.EscapeString(text.String()))
	p.Printf("<p class=\"note\">%s, %s/%s, %d CPUs (%s), commit %s, started %s. Peak: most attempts in one bucket (the first bucket holds every client's first attempt, whatever the jitter); peak after recovery: from the end of the outage on. Drain: until the last client succeeded.</p>\n",
		html.EscapeString(r.Env.GoVersion), r.Env.OS, r.Env.Arch, r.Env.NumCPU, html.EscapeString(r.Env.CPUModel), html.EscapeString(r.Env.ShortCommit()), r.Started.Format("2006-01-02 15:04 MST"))
	p.Printf("<section id=\"herd-chart\">%s</section>\n", herdChart(r))
	return p.Finish(w)
}

func writeHerdFile(path string, r *HerdReport, f func(io.Writer, *HerdReport) error) error {
	var b bytes.Buffer
	if err := f(&b, r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func writeHerdJSON(w io.Writer, r *HerdReport) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

func herdMain(args []string, stdout, stderr io.Writer) int {
	c := DefaultHerdConfig()
	fs := flag.NewFlagSet("herd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: loadtest herd [flags]

Backoff and jitter, shown. Starts one transport's server on loopback and makes
it answer Unavailable for an outage; N clients, each with its own connection
and its own retry layer (no retry budget, no breaker: either would hide the
herd), make one Balance each at the moment the outage begins and retry until
it ends. Run once per jitter mode, it prints the attempts, the peak attempts
per 10 ms bucket and the time until every client succeeded, and charts the
attempts per bucket: synchronised waves without jitter, a smoothed load with it.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Transport, "transport", c.Transport, "transport to run (known: "+strings.Join(registry.Names(false), ", ")+")")
	fs.IntVar(&c.Clients, "clients", c.Clients, "clients, each with its own connection and one call")
	fs.DurationVar(&c.Outage, "outage", c.Outage, "how long the server answers Unavailable")
	fs.DurationVar(&c.Bucket, "bucket", c.Bucket, "width of a bucket of the chart")
	modes := fs.String("jitter", "none,full,equal,decorrelated", "comma-separated jitter `modes` to run, in order")
	fs.IntVar(&c.Policy.MaxAttempts, "attempts", c.Policy.MaxAttempts, "most attempts per call")
	fs.DurationVar(&c.Policy.InitialBackoff, "backoff", c.Policy.InitialBackoff, "first retry's delay before jitter")
	fs.DurationVar(&c.Policy.MaxBackoff, "max-backoff", c.Policy.MaxBackoff, "cap of every delay")
	fs.DurationVar(&c.Timeout, "timeout", 0, "every call's deadline (0: 4×outage + 10s)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the jitter")
	fs.IntVar(&c.Capacity, "capacity", 0, "once back, the server answers at most this many calls per bucket and sheds the rest (0: no limit)")
	htmlOut := fs.String("html", "", "write the chart and table as a self-contained HTML page to `FILE`")
	jsonOut := fs.String("json", "", "write the figures and the buckets as JSON to `FILE`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest herd: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	c.Modes = nil
	for _, m := range splitList(*modes) {
		j, err := resilience.ParseJitter(m)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest herd: -jitter: %v\n", err)
			return 2
		}
		c.Modes = append(c.Modes, j)
	}
	rep, err := RunHerd(context.Background(), c)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest herd: %v\n", err)
		return 1
	}
	WriteHerdText(stdout, rep)
	for _, x := range []struct {
		path string
		f    func(io.Writer, *HerdReport) error
	}{{*htmlOut, WriteHerdHTML}, {*jsonOut, writeHerdJSON}} {
		if x.path == "" {
			continue
		}
		if err := writeHerdFile(x.path, rep, x.f); err != nil {
			fmt.Fprintf(stderr, "loadtest herd: %v\n", err)
			return 1
		}
	}
	return 0
}
