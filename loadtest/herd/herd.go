package herd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/registry"
)

// Config is one "loadtest herd" experiment.
type Config struct {
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

// DefaultConfig returns the defaults of "loadtest herd".
func DefaultConfig() Config {
	return Config{
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

// ModeResult is what one jitter mode did.
type ModeResult struct {
	Jitter    string `json:"jitter"`
	Clients   int    `json:"clients"`
	Succeeded int    `json:"succeeded"`
	// Attempts counts the attempts the clients made, ServerCalls the calls
	// the server received (equal unless a call was lost on the way).
	Attempts    int `json:"attempts"`
	ServerCalls int `json:"server_calls"`
	// Shed counts the calls the server turned away after the outage, for
	// want of capacity (with Config.Capacity).
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

// Kind and Format mark a saved herd run: the kind of file, and the
// version of its layout.
const (
	Kind   = "herd"
	Format = 1
)

// Report is the outcome of "loadtest herd".
type Report struct {
	Kind      string            `json:"kind"`   // Kind: a herd run, among the files the tool saves
	Format    int               `json:"format"` // Format, the version of this layout
	Transport string            `json:"transport"`
	Clients   int               `json:"clients"`
	OutageMs  float64           `json:"outage_ms"`
	BucketMs  float64           `json:"bucket_ms"`
	Policy    string            `json:"policy"`
	Seed      uint64            `json:"seed"`
	Capacity  int               `json:"capacity,omitempty"`
	Started   time.Time         `json:"started"`
	Env       bench.Environment `json:"env"`
	Runs      []ModeResult      `json:"runs"`
}

func (c *Config) policyText() string {
	p := c.Policy
	return fmt.Sprintf("max attempts %d, backoff %v×%g up to %v, no retry budget, no breaker, call deadline %v",
		p.MaxAttempts, p.InitialBackoff, p.Multiplier, p.MaxBackoff, c.timeout())
}

func (c *Config) timeout() time.Duration {
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

func (o *outageBank) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	if err := o.down(); err != nil {
		return bank.Statement{}, err
	}
	return o.Bank.Statement(ctx, req)
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

// Run runs the experiment once per jitter mode.
func Run(ctx context.Context, c Config) (*Report, error) {
	t, ok := registry.Lookup(c.Transport)
	if !ok || c.Transport == registry.ReferenceName {
		return nil, fmt.Errorf("unknown transport %q (known: %s)", c.Transport, strings.Join(registry.Names(false), ", "))
	}
	if c.Clients < 1 || c.Outage <= 0 || c.Bucket <= 0 || c.Capacity < 0 || len(c.Modes) == 0 {
		return nil, errors.New("herd: want clients ≥ 1, outage > 0, bucket > 0 and at least one jitter mode")
	}
	rep := &Report{
		Kind: Kind, Format: Format,
		Transport: c.Transport, Clients: c.Clients, OutageMs: ms(c.Outage), BucketMs: ms(c.Bucket),
		Policy: c.policyText(), Seed: c.Seed, Capacity: c.Capacity, Started: time.Now().UTC(), Env: bench.CurrentEnvironment(),
	}
	for _, j := range c.Modes {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r, err := runMode(ctx, t, &c, j)
		if err != nil {
			return rep, fmt.Errorf("jitter %v: %w", j, err)
		}
		rep.Runs = append(rep.Runs, *r)
	}
	return rep, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func runMode(ctx context.Context, t transport.Variant, c *Config, j resilience.Jitter) (*ModeResult, error) {
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
	r := &ModeResult{Jitter: j.String(), Clients: c.Clients, Succeeded: int(ok.Load()), ServerCalls: int(ob.calls.Load()), Shed: shed}
	if len(errs) > 0 {
		r.Errors = errs
	}
	var drain time.Duration
	for i, cl := range clocks {
		r.Attempts += len(cl.starts)
		r.MaxAttempts = max(r.MaxAttempts, attempts[i])
		drain = max(drain, done[i])
	}
	r.DrainMs = ms(drain)
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
