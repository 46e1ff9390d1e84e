package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/directory"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// FailoverConfig is the directory experiment (RunFailover): three
// replicas, a load of reads, one replica SIGKILLed, then one paused.
type FailoverConfig struct {
	// Transport names the replicas' transport ("raw").
	Transport string
	// Bin is its cmd/server.
	Bin string
	// Etcd are the directory's endpoints (host:port, comma-separated).
	Etcd string
	// TTL is the replicas' lease TTL.
	TTL time.Duration
	// Workers call Balance in a loop, each through the shared retry
	// layers; Observe is how long the load runs after each kill.
	Workers int
	Observe time.Duration
}

// DefaultFailoverConfig runs in about 25 s on two cores.
func DefaultFailoverConfig() FailoverConfig {
	return FailoverConfig{Transport: "raw", TTL: 2 * time.Second, Workers: 6, Observe: 4 * time.Second}
}

// FailoverResult is what the experiment measured.
type FailoverResult struct {
	Transport string        `json:"transport"`
	TTL       time.Duration `json:"ttl_ns"`
	// Static: clients given fixed addresses, one replica killed.
	Static LoadOutcome `json:"static"`
	// Directory: clients resolving the logical name, one replica killed.
	Directory LoadOutcome `json:"directory"`
	// Detection is the time from the kill until the address left the set.
	Detection time.Duration `json:"detection_ns"`
	// ShortPause and LongPause are a replica frozen (SIGSTOP) for less
	// and for more than the TTL.
	ShortPause PauseOutcome `json:"short_pause"`
	LongPause  PauseOutcome `json:"long_pause"`
}

// LoadOutcome counts the calls of a load, after the shared layers' retries.
type LoadOutcome struct {
	Calls  int64 `json:"calls"`
	Failed int64 `json:"failed"`
}

// PauseOutcome is what the directory did while a replica was paused.
type PauseOutcome struct {
	Paused time.Duration `json:"paused_ns"`
	// Suspected reports whether the address left the set (the lease
	// expired) although the process was alive; SuspectedAfter is when,
	// from the SIGSTOP, and BackAfter when it was listed again, from
	// the SIGCONT.
	Suspected      bool          `json:"suspected"`
	SuspectedAfter time.Duration `json:"suspected_after_ns,omitempty"`
	BackAfter      time.Duration `json:"back_after_ns,omitempty"`
	Load           LoadOutcome   `json:"load"`
}

// RunFailover runs the experiment: the same three-replica kill without
// and with the directory, then a pause shorter and one longer than the
// TTL, under a load through the directory.
func RunFailover(ctx context.Context, cfg FailoverConfig) (FailoverResult, error) {
	res := FailoverResult{Transport: cfg.Transport, TTL: cfg.TTL}
	d, v, err := lookup(cfg.Transport)
	if err != nil {
		return res, err
	}
	eps, err := directory.ParseEndpoints(cfg.Etcd)
	if err != nil {
		return res, err
	}
	dir, err := directory.Open(eps)
	if err != nil {
		return res, err
	}
	defer dir.Close()
	name := fmt.Sprintf("igbank/failover-%d/%s", time.Now().UnixNano(), d.Name)
	args, _ := ServerArgs(cfg.Transport)
	start := func(register bool) ([]*Proc, error) {
		var ps []*Proc
		for range 3 {
			addr, err := FreeAddr()
			if err != nil {
				return ps, err
			}
			extra := slices.Clip(args)
			if register {
				extra = append(extra, "-register", "etcd://"+cfg.Etcd+"/"+name, "-lease-ttl", cfg.TTL.String())
			}
			p, err := Start(ctx, cfg.Bin, addr, "memory", 100, extra...)
			if err != nil {
				return ps, err
			}
			ps = append(ps, p)
		}
		return ps, nil
	}
	stopAll := func(ps []*Proc) {
		for _, p := range ps {
			p.Resume()
			if !p.Exited() {
				p.Stop(5 * time.Second)
			}
		}
	}
	layers := func(c transport.Client) bank.Bank {
		return resilience.Wrap(c, resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 4, InitialBackoff: 10 * time.Millisecond,
			MaxBackoff: 50 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond}), resilience.WithoutBudget(), resilience.WithoutBreaker())
	}

	// Without the directory: each client was given one replica's address.
	ps, err := start(false)
	defer func() { stopAll(ps) }()
	if err != nil {
		return res, err
	}
	var clients []bank.Bank
	for i := range cfg.Workers {
		c := transport.Lazy(func(ctx context.Context) (transport.Client, error) {
			return v.Dial(ctx, ps[i%3].Addr, transport.ClientConfig{})
		})
		defer c.Close()
		clients = append(clients, layers(c))
	}
	res.Static = runLoad(ctx, clients, cfg.Observe, func() { ps[0].Kill() })
	stopAll(ps)

	// With the directory.
	if ps, err = start(true); err != nil {
		return res, err
	}
	set, err := directory.Watch(ctx, dir.Client, name)
	if err != nil {
		return res, err
	}
	defer set.Close()
	c, err := directory.DialName(ctx, d, v, name, dir, transport.ClientConfig{})
	if err != nil {
		return res, err
	}
	defer c.Close()
	b := layers(c)
	clients = clients[:0]
	for range cfg.Workers {
		clients = append(clients, b)
	}
	var killed time.Time
	left := watchAddr(set, ps[0].Addr)
	res.Directory = runLoad(ctx, clients, cfg.Observe, func() { killed = time.Now(); ps[0].Kill() })
	select {
	case at := <-left.gone:
		res.Detection = at.Sub(killed)
	default:
		return res, fmt.Errorf("the killed replica %s was still listed %v after the kill", ps[0].Addr, cfg.Observe)
	}
	left.stop()

	// Pauses of the second replica: half the TTL, then twice the TTL.
	for i, pause := range []time.Duration{cfg.TTL / 2, 2*cfg.TTL + time.Second} {
		p := ps[1]
		w := watchAddr(set, p.Addr)
		out := PauseOutcome{Paused: pause}
		var stopped, resumed time.Time
		out.Load = runLoad(ctx, clients, pause+cfg.TTL+time.Second, func() {
			stopped = time.Now()
			p.Pause()
			time.AfterFunc(pause, func() { resumed = time.Now(); p.Resume() })
		})
		w.stop()
		if at, ok := w.goneAt(); ok {
			out.Suspected, out.SuspectedAfter = true, at.Sub(stopped)
			if back, ok := w.backAt(); ok {
				out.BackAfter = back.Sub(resumed)
			}
		}
		if i == 0 {
			res.ShortPause = out
		} else {
			res.LongPause = out
		}
	}
	return res, nil
}

// runLoad runs the workers' Balance calls for a short warm-up, calls
// fault, and goes on for observe; it counts the calls from the fault on.
func runLoad(ctx context.Context, clients []bank.Bank, observe time.Duration, fault func()) LoadOutcome {
	var calls, failed atomic.Int64
	var counting atomic.Bool
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, b := range clients {
		wg.Go(func() {
			acc := bank.AccountNo(fmt.Sprintf("%09d", i%100+1))
			for lctx.Err() == nil {
				cctx, ccancel := context.WithTimeout(lctx, 2*time.Second)
				_, err := b.Balance(cctx, acc)
				ccancel()
				if counting.Load() && lctx.Err() == nil {
					calls.Add(1)
					if err != nil {
						failed.Add(1)
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	counting.Store(true)
	fault()
	time.Sleep(observe)
	cancel()
	wg.Wait()
	return LoadOutcome{Calls: calls.Load(), Failed: failed.Load()}
}

// addrWatch records when an address leaves a set and comes back.
type addrWatch struct {
	gone       chan time.Time
	done       chan struct{}
	stopped    chan struct{}
	mu         sync.Mutex
	left, back time.Time
}

func watchAddr(set transport.Addrs, addr string) *addrWatch {
	w := &addrWatch{gone: make(chan time.Time, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(w.stopped)
		for {
			changed := set.Changed()
			listed := slices.Contains(set.Addrs(), addr)
			w.mu.Lock()
			if !listed && w.left.IsZero() {
				w.left = time.Now()
				w.gone <- w.left
			} else if listed && !w.left.IsZero() && w.back.IsZero() {
				w.back = time.Now()
			}
			w.mu.Unlock()
			select {
			case <-w.done:
				return
			case <-changed:
			}
		}
	}()
	return w
}

func (w *addrWatch) stop() { close(w.done); <-w.stopped }

func (w *addrWatch) goneAt() (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.left, !w.left.IsZero()
}

func (w *addrWatch) backAt() (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.back, !w.back.IsZero()
}

// WriteJSON writes r as indented JSON.
func (r FailoverResult) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteText writes r as the terminal report.
func (r FailoverResult) WriteText(w io.Writer) {
	fmt.Fprintf(w, "directory experiment: 3 %s replicas, lease TTL %v\n", r.Transport, r.TTL)
	fmt.Fprintf(w, "  SIGKILL one, clients with fixed addresses: %d of %d calls failed (after retries)\n", r.Static.Failed, r.Static.Calls)
	fmt.Fprintf(w, "  SIGKILL one, clients resolving the name:   %d of %d calls failed; the address left the set %v after the kill\n",
		r.Directory.Failed, r.Directory.Calls, r.Detection.Round(time.Millisecond))
	for _, p := range []struct {
		what string
		o    PauseOutcome
	}{{"shorter", r.ShortPause}, {"longer", r.LongPause}} {
		fmt.Fprintf(w, "  SIGSTOP one for %v (%s than the TTL): ", p.o.Paused, p.what)
		if p.o.Suspected {
			fmt.Fprintf(w, "suspected (removed although alive) %v after the stop, listed again %v after SIGCONT;", p.o.SuspectedAfter.Round(time.Millisecond), p.o.BackAfter.Round(time.Millisecond))
		} else {
			fmt.Fprint(w, "not suspected (stayed listed);")
		}
		fmt.Fprintf(w, " %d of %d calls failed\n", p.o.Load.Failed, p.o.Load.Calls)
	}
}

var failoverPage = template.Must(template.New("page").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>IGBank directory experiment</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style></head>
<body><h1>Directory experiment: 3 {{.Transport}} replicas, lease TTL {{ms .TTL}}</h1>
<table><tr><th>fault</th><th>clients</th><th>calls</th><th>failed</th><th>directory</th></tr>
<tr><td>SIGKILL one replica</td><td>fixed addresses</td><td>{{.Static.Calls}}</td><td>{{.Static.Failed}}</td><td>not used</td></tr>
<tr><td>SIGKILL one replica</td><td>logical name</td><td>{{.Directory.Calls}}</td><td>{{.Directory.Failed}}</td><td>address left {{ms .Detection}} after the kill</td></tr>
<tr><td>SIGSTOP {{ms .ShortPause.Paused}}</td><td>logical name</td><td>{{.ShortPause.Load.Calls}}</td><td>{{.ShortPause.Load.Failed}}</td><td>{{if .ShortPause.Suspected}}suspected after {{ms .ShortPause.SuspectedAfter}}{{else}}not suspected{{end}}</td></tr>
<tr><td>SIGSTOP {{ms .LongPause.Paused}}</td><td>logical name</td><td>{{.LongPause.Load.Calls}}</td><td>{{.LongPause.Load.Failed}}</td><td>{{if .LongPause.Suspected}}suspected after {{ms .LongPause.SuspectedAfter}} although alive; back {{ms .LongPause.BackAfter}} after SIGCONT{{else}}not suspected{{end}}</td></tr>
</table>
<p>Detection time is bounded by the lease TTL (plus etcd's 500 ms expiry sweep); a pause longer than the TTL is a false suspicion.</p>
</body></html>
`))

// WriteHTML writes r as a small HTML page.
func (r FailoverResult) WriteHTML(w io.Writer) error { return failoverPage.Execute(w, r) }
