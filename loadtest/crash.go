package loadtest

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
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// CrashConfig is a crash run: a server process on a SQLite file that kills
// itself as Fault says, restarted on the same file and address each time
// it dies, while clients make deposits through the shared retry layers.
type CrashConfig struct {
	Transport transport.Variant
	// Store is the server's ledger, "sqlite:PATH" (a durable store: a
	// restarted server must find what its predecessor applied), a new file
	// or one whose seeded accounts have no deposits yet: the audit counts
	// from the seed balances.
	Store string
	// Fault is the server's -fault plan.
	Fault fault.Spec
	// Crashes is how many server starts get Fault (default 1); the starts
	// after them run clean, so the run ends.
	Crashes int
	// IgnoreKeys runs the servers with -idempotency=off.
	IgnoreKeys bool
	Accounts   int // seeded accounts the deposits go to (default 8)
	Clients    int // concurrent clients, one connection each (default 3)
	Deposits   int // logical deposits per client, made one after the other (default 8)
	// CallTimeout bounds each logical deposit, retries included (default
	// 15s).
	CallTimeout time.Duration
	// Resilience is how each client is wrapped (default:
	// patientResilience).
	Resilience []resilience.Option
}

// CrashResult is what a crash run saw: the clients' view of each deposit
// and the audit of the ledger read back from a clean server started on
// the same file after the run.
type CrashResult struct {
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

func (c *CrashConfig) defaults() error {
	if !strings.HasPrefix(c.Store, "sqlite:") {
		return fmt.Errorf("crash run: store %q is not sqlite:PATH", c.Store)
	}
	if c.Transport.Dial == nil || c.Transport.Name == ReferenceName {
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
		c.Resilience = patientResilience()
	}
	return nil
}

// patientResilience is the default of CrashConfig.Resilience: up to 60
// attempts, 10ms to 250ms of full-jitter backoff, 2s per attempt, no
// budget and no breaker, so that retries outlast a restart.
func patientResilience() []resilience.Option {
	return []resilience.Option{
		resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 60, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 250 * time.Millisecond, AttemptTimeout: 2 * time.Second}),
		resilience.WithoutBudget(), resilience.WithoutBreaker(),
	}
}

// crashSupervisor keeps one server process running on the same file and
// address, restarting it whenever it dies.
type crashSupervisor struct {
	c    *CrashConfig
	addr string

	mu     sync.Mutex
	cur    *childHandle
	all    []*childHandle
	starts int
	deaths int
	errs   []error
	stop   chan struct{}
	done   chan struct{}
}

// start starts server number s.starts+1: with the fault plan while
// Crashes allow, on the supervisor's address once it has one.
func (s *crashSupervisor) start(fault bool) (*childHandle, error) {
	var extra []string
	if s.addr != "" {
		extra = append(extra, "-addr", s.addr)
	}
	o := serverOpts{ignoreKeys: s.c.IgnoreKeys}
	if fault {
		o.fault = s.c.Fault
		if o.fault.P > 0 {
			// A new process draws anew, or it would die on the same deposit
			// every time.
			o.fault.Seed += uint64(s.starts)
		}
	}
	extra = append(extra, o.args()...)
	var (
		h   *childHandle
		err error
	)
	// The address was free when the first server took it; a restart may
	// race the kernel releasing it.
	for try := 0; try < 20; try++ {
		if h, err = startChildProc(s.c.Transport, s.c.Accounts, s.c.Store, "", extra...); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts++
	s.all = append(s.all, h)
	s.cur = h
	if s.addr == "" {
		s.addr = h.addr
	}
	return h, nil
}

// supervise restarts the server each time it dies, until stop is closed.
func (s *crashSupervisor) supervise() {
	defer close(s.done)
	for {
		s.mu.Lock()
		h, n := s.cur, s.starts
		s.mu.Unlock()
		select {
		case <-s.stop:
			return
		case <-h.done:
		}
		s.mu.Lock()
		if fault.Killed(h.err) && n <= s.c.Crashes {
			s.deaths++
		} else {
			s.errs = append(s.errs, fmt.Errorf("server %d ended unexpectedly (%v): %s", n, h.err, h.stderr.String()))
		}
		s.mu.Unlock()
		if n > s.c.Crashes+2 {
			return
		}
		if _, err := s.start(n+1 <= s.c.Crashes); err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, fmt.Errorf("restarting the server: %w", err))
			s.mu.Unlock()
			return
		}
	}
}

// killAll kills every server process still running.
func (s *crashSupervisor) killAll() {
	s.mu.Lock()
	all := append([]*childHandle(nil), s.all...)
	s.mu.Unlock()
	for _, h := range all {
		h.kill()
	}
}

// RunCrash runs c: it starts a server process (this program in serve
// mode) on c.Store with c.Fault, checks that the accounts hold their seed
// balances, lets c.Clients clients make c.Deposits deposits each through
// resilience.Wrap around the transport's client (every retry carries the
// deposit's idempotency key) while the server is restarted on the same
// file and address whenever it dies, and finally reads the ledger back
// from a clean server on the same file and audits it (audit.Check). Every
// process it starts is ended before it returns, also on error or panic.
func RunCrash(ctx context.Context, c CrashConfig) (*CrashResult, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	s := &crashSupervisor{c: &c, stop: make(chan struct{}), done: make(chan struct{})}
	defer s.killAll()
	if _, err := s.start(true); err != nil {
		return nil, err
	}
	accounts := make([]bank.AccountNo, c.Accounts)
	for i := range accounts {
		accounts[i] = ledger.SeedAccount(i + 1)
	}
	if err := crashCheckSeeded(ctx, c.Transport, s.addr, accounts); err != nil {
		return nil, err
	}
	res := &CrashResult{Transport: c.Transport.Name, Fault: c.Fault.String(), IgnoreKeys: c.IgnoreKeys}

	go s.supervise()
	var stats resilience.Stats
	res.Deposits, res.Timeline = crashDeposits(ctx, &c, s.addr, accounts, &stats, t0)
	res.Attempts, res.Retries = stats.Attempts.Load(), stats.Retries.Load()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	cur, errs := s.cur, s.errs
	s.mu.Unlock()
	select {
	case <-cur.done:
		if fault.Killed(cur.err) {
			s.mu.Lock()
			s.deaths++ // it died after the last deposit was answered
			s.mu.Unlock()
		} else {
			errs = append(errs, fmt.Errorf("the last server ended unexpectedly (%v): %s", cur.err, cur.stderr.String()))
		}
	default:
		// SIGKILL rather than a graceful stop: the store must survive it
		// anyway, and a graceful stop costs a second here.
		cur.kill()
	}
	if err := errors.Join(errs...); err != nil {
		return res, err
	}

	// A clean server on the same file reads back what is on disk.
	if _, err := s.start(false); err != nil {
		return res, err
	}
	s.mu.Lock()
	h := s.cur
	res.Starts, res.Deaths = s.starts, s.deaths
	s.mu.Unlock()
	defer h.kill()
	months := []bank.Month{bank.MonthOf(t0)}
	if m := bank.MonthOf(time.Now()); m != months[0] {
		months = append(months, m)
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl, err := crashDial(rctx, c.Transport, s.addr)
	if err != nil {
		return res, fmt.Errorf("reading the ledger back: %w", err)
	}
	defer cl.Close()
	if res.Audit, err = audit.Check(rctx, cl, months, res.Deposits, c.IgnoreKeys); err != nil {
		return res, fmt.Errorf("reading the ledger back: %w", err)
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// crashCheckSeeded checks that the accounts of the server at addr hold
// their seed balances, which the audit counts from.
func crashCheckSeeded(ctx context.Context, t transport.Variant, addr string, accounts []bank.AccountNo) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl, err := crashDial(ctx, t, addr)
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
func crashDial(ctx context.Context, t transport.Variant, addr string) (transport.Client, error) {
	for {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		cl, err := t.Dial(dctx, addr, transport.ClientConfig{})
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

// crashDeposits makes the run's deposits and returns what each client saw
// and the record of each call (start is when the run began).
func crashDeposits(ctx context.Context, c *CrashConfig, addr string, accounts []bank.AccountNo, stats *resilience.Stats, start time.Time) ([]audit.Deposit, []CallRecord) {
	out := make([]audit.Deposit, c.Clients*c.Deposits)
	calls := make([]CallRecord, len(out))
	run := time.Now().UnixNano()
	var wg sync.WaitGroup
	for w := range c.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := out[w*c.Deposits : (w+1)*c.Deposits]
			for i := range mine {
				n := w*c.Deposits + i
				mine[i] = audit.Deposit{
					Key:     fmt.Sprintf("crash-%d-%d-%d", run, w, i),
					Account: accounts[n%len(accounts)],
					// Unique amounts tell the deposits apart in the ledger
					// even when the server dropped their keys.
					Amount:  bank.Money(1000 + n),
					Outcome: audit.Unknown,
				}
			}
			cl, err := crashDial(ctx, c.Transport, addr)
			if err != nil {
				for i := range mine {
					mine[i].Code = bank.CodeOf(err)
				}
				return
			}
			defer cl.Close()
			b := resilience.Wrap(countingBank{cl}, append(append([]resilience.Option(nil), c.Resilience...), resilience.WithStats(stats))...)
			for i := range mine {
				d := &mine[i]
				cctx, cancel := context.WithTimeout(ctx, c.CallTimeout)
				cctx, attempts := withCallAttempts(cctx)
				t := time.Now()
				r, err := b.Deposit(cctx, bank.DepositRequest{Account: d.Account, Amount: d.Amount, IdempotencyKey: d.Key})
				calls[w*c.Deposits+i] = newCallRecord(start, t, time.Since(t), err, attempts, false)
				cancel()
				d.Outcome, d.Code, d.Receipt = audit.OutcomeOf(err), bank.CodeOf(err), r
			}
		}()
	}
	wg.Wait()
	return out, calls
}
