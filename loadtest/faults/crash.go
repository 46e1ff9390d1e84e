package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/process"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
)

// crashConfig is a crash run: a server process on a SQLite file that kills
// itself as Fault says, restarted on the same file and address each time
// it dies, while clients make deposits through the shared retry layers.
type crashConfig struct {
	Transport transport.Variant
	// Store is the server's ledger, "sqlite:PATH" (a durable store: a
	// restarted server must find what its predecessor applied), a new file
	// or one whose seeded accounts have no deposits yet: the audit counts
	// from the seed balances.
	Store string
	// Fault is the plan the server process dies by.
	Fault fault.Spec
	// Crashes is how many server starts get Fault (default 1); the starts
	// after them run clean, so the run ends.
	Crashes int
	// IgnoreKeys runs the servers ignoring idempotency keys.
	IgnoreKeys bool
	// Keys, if set, runs the servers and clients over TLS.
	Keys     *keys
	Accounts int // seeded accounts the deposits go to (default 8)
	Clients  int // concurrent clients, one connection each (default 3)
	Deposits int // logical deposits per client, made one after the other (default 8)
	// CallTimeout bounds each logical deposit, retries included (default
	// 15s).
	CallTimeout time.Duration
	// Resilience is how each client is wrapped (default:
	// audit.Patient()).
	Resilience []resilience.Option
}

// crashResult is what a crash run saw: the clients' view of each deposit
// and the audit of the ledger read back from a clean server started on
// the same file after the run.
type crashResult struct {
	Transport  string          `json:"transport"`
	Fault      string          `json:"fault"`
	IgnoreKeys bool            `json:"ignore_keys"`
	Deposits   []audit.Deposit `json:"deposits"`
	// Timeline holds each deposit's call, retries included, in the order
	// of Deposits.
	Timeline []CallRecord `json:"timeline"`
	Audit    audit.Result `json:"audit"`
	Starts   int          `json:"starts"` // server processes started, the read-back one included
	Deaths   int          `json:"deaths"` // servers that died by SIGKILL during the run
	// Attempts and Retries are the retry layers' counts over all clients.
	Attempts int64         `json:"attempts"`
	Retries  int64         `json:"retries"`
	Elapsed  time.Duration `json:"elapsed_ns"`
}

func (c *crashConfig) defaults() error {
	if !strings.HasPrefix(c.Store, "sqlite:") {
		return fmt.Errorf("crash run: store %q is not sqlite:PATH", c.Store)
	}
	if c.Transport.Dial == nil || c.Transport.Name == registry.ReferenceName {
		return errors.New("crash run: no transport")
	}
	if c.Crashes <= 0 {
		c.Crashes = 1
	}
	if c.Accounts <= 0 {
		c.Accounts = 8
	}
	if c.Clients <= 0 {
		c.Clients = 3
	}
	if c.Deposits <= 0 {
		c.Deposits = 8
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 15 * time.Second
	}
	if c.Resilience == nil {
		c.Resilience = audit.Patient()
	}
	return nil
}

// startCrashServer starts server number n of a crash run on the store and,
// once the first has taken one, the address of the run: with the fault
// plan while c.Crashes allow, clean after.
func startCrashServer(c *crashConfig, addr string, n int) (*server.Child, error) {
	sc := server.Config{Transport: c.Transport.Name, Addr: addr, Accounts: c.Accounts, Store: c.Store, IgnoreKeys: c.IgnoreKeys}
	if c.Keys != nil {
		sc.Security = c.Keys.security()
	}
	if n <= c.Crashes {
		sc.Fault = c.Fault
		if sc.Fault.P > 0 {
			// A new process draws anew, or it would die on the same deposit
			// every time.
			sc.Fault.Seed += uint64(n - 1)
		}
	}
	return server.StartChild(sc)
}

// runCrash runs c: it starts a server process (this program in serve
// mode) on c.Store with c.Fault, checks that the accounts hold their seed
// balances, lets c.Clients clients make c.Deposits deposits each through
// resilience.Wrap around the transport's client (every retry carries the
// deposit's idempotency key) while the server is restarted on the same
// file and address whenever it dies, and finally reads the ledger back
// from a clean server on the same file and audits it (audit.Check). Every
// process it starts is ended before it returns, also on error or panic.
func runCrash(ctx context.Context, c crashConfig) (*crashResult, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	first, err := startCrashServer(&c, "", 1)
	if err != nil {
		return nil, err
	}
	addr := first.Addr()
	// Every process the run starts is killed before it returns.
	var mu sync.Mutex
	procs := []*process.Proc{first.Proc()}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range procs {
			p.Kill()
		}
	}()
	accounts := make([]bank.AccountNo, c.Accounts)
	for i := range accounts {
		accounts[i] = ledger.SeedAccount(i + 1)
	}
	if err := crashCheckSeeded(ctx, c.Transport, addr, c.clientConfig(), accounts); err != nil {
		return nil, err
	}
	res := &crashResult{Transport: c.Transport.Name, Fault: c.Fault.String(), IgnoreKeys: c.IgnoreKeys}

	// The supervisor starts the server again on the same file and address
	// each time it dies, with the fault while c.Crashes allow; it stops
	// after a few clean ones too many.
	sup, err := process.Supervise(ctx, func(ctx context.Context, n int) (*process.Proc, error) {
		if n == 1 {
			return first.Proc(), nil
		}
		h, err := startCrashServer(&c, addr, n)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		procs = append(procs, h.Proc())
		mu.Unlock()
		return h.Proc(), nil
	}, c.Crashes+3)
	if err != nil {
		return nil, err
	}
	var stats resilience.Stats
	lr, _ := audit.Load{
		Dial: func(ctx context.Context) (transport.Client, error) {
			return c.Transport.Dial(ctx, addr, c.clientConfig())
		},
		Resilience: append(append([]resilience.Option(nil), c.Resilience...), resilience.WithStats(&stats)),
		Deposits:   c.Clients * c.Deposits,
		Workers:    c.Clients,
		Accounts:   c.Accounts,
		Prefix:     fmt.Sprintf("crash-%d", time.Now().UnixNano()),
		// CallTimeout bounds each deposit, retries included.
		CallTimeout: c.CallTimeout,
	}.Run(ctx)
	res.Deposits = lr.Deposits
	res.Timeline = callRecords(t0, lr.Calls, nil)
	res.Attempts, res.Retries = stats.Attempts.Load(), stats.Retries.Load()
	starts, ends, err := sup.Stop()
	// A server dies as planned if it is killed while its start carried
	// the fault; any other end is a failure of the run. SIGKILL rather
	// than a graceful stop for the last one: the store must survive it
	// anyway, and a graceful stop costs a second here.
	errs := []error{err}
	for _, e := range ends {
		if e.Killed && e.N <= c.Crashes {
			res.Deaths++
		} else {
			errs = append(errs, errors.New(e.String()))
		}
	}
	sup.Current().Kill()
	if err := errors.Join(errs...); err != nil {
		return res, err
	}

	// A clean server on the same file reads back what is on disk.
	h, err := startCrashServer(&c, addr, starts+1)
	if err != nil {
		return res, err
	}
	mu.Lock()
	procs = append(procs, h.Proc())
	mu.Unlock()
	res.Starts = starts + 1
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl, err := crashDial(rctx, c.Transport, addr, c.clientConfig())
	if err != nil {
		return res, fmt.Errorf("reading the ledger back: %w", err)
	}
	defer cl.Close()
	if res.Audit, err = audit.Check(rctx, cl, audit.Months(t0), res.Deposits, c.IgnoreKeys); err != nil {
		return res, fmt.Errorf("reading the ledger back: %w", err)
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// crashCheckSeeded checks that the accounts of the server at addr hold
// their seed balances, which the audit counts from.
func crashCheckSeeded(ctx context.Context, t transport.Variant, addr string, cc transport.ClientConfig, accounts []bank.AccountNo) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl, err := crashDial(ctx, t, addr, cc)
	if err != nil {
		return err
	}
	defer cl.Close()
	for i, acc := range accounts {
		b, err := cl.Balance(ctx, acc)
		if err != nil {
			return fmt.Errorf("reading the ledger before the run: balance of %s: %w", acc, err)
		}
		if b != ledger.SeedBalance(i+1) {
			return fmt.Errorf("crash run: account %s holds %s, not its seed balance %s: the store is not a fresh one", acc, b, ledger.SeedBalance(i+1))
		}
	}
	return nil
}

// crashDial dials t at addr, trying again while the server is away.
func crashDial(ctx context.Context, t transport.Variant, addr string, cc transport.ClientConfig) (transport.Client, error) {
	for {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		cl, err := t.Dial(dctx, addr, cc)
		cancel()
		if err == nil {
			return cl, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("dialing %s: %w (last error: %v)", addr, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// clientConfig is the shared settings of the run's clients.
func (c *crashConfig) clientConfig() transport.ClientConfig {
	if c.Keys == nil {
		return transport.ClientConfig{}
	}
	return transport.ClientConfig{TLS: c.Keys.client}
}
