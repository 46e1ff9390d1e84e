package loadtest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/faultplan"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// CrashConfig is a crash run: a server process on a SQLite file that kills
// itself as Fault says, restarted on the same file and address each time
// it dies, while clients make deposits through the shared retry layers.
type CrashConfig struct {
	Transport Transport
	// Store is the server's ledger, "sqlite:PATH" (a durable store: a
	// restarted server must find what its predecessor applied).
	Store string
	// Fault is the server's -fault plan.
	Fault faultplan.Plan
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
	// Resilience is how each client is wrapped (default: up to 60
	// attempts, 10ms to 250ms of full-jitter backoff, 2s per attempt, no
	// budget and no breaker, so that retries outlast a restart).
	Resilience []resilience.Option
	// ReadBack, if set, is called at the end with a client of the clean
	// server started on the file after the run, and the result so far
	// (the clients' view and the balances and transactions read back):
	// the place for an audit of one's own. Its error is RunCrash's.
	ReadBack func(ctx context.Context, b bank.Bank, r *CrashResult) error
}

// CrashDeposit is one logical deposit and what its client saw.
type CrashDeposit struct {
	Key     string              `json:"key"`
	Account bank.AccountNo      `json:"account"`
	Amount  bank.Money          `json:"amount"` // unique within the run
	Acked   bool                `json:"acked"`
	Receipt bank.DepositReceipt `json:"receipt"`
	Code    bank.Code           `json:"code,omitempty"` // the failure's code, if not acknowledged
	Err     string              `json:"error,omitempty"`
}

// CrashResult is what a crash run saw: the clients' view and the ledger's.
type CrashResult struct {
	Transport  string         `json:"transport"`
	Fault      string         `json:"fault"`
	IgnoreKeys bool           `json:"ignore_keys"`
	Deposits   []CrashDeposit `json:"deposits"`
	// Opening and Closing are the balances of the accounts before the
	// first deposit and after the run (read from a clean server started
	// on the same file); New holds each account's transactions that
	// appeared in between.
	Opening map[bank.AccountNo]bank.Money         `json:"opening"`
	Closing map[bank.AccountNo]bank.Money         `json:"closing"`
	New     map[bank.AccountNo][]bank.Transaction `json:"new"`
	Starts  int                                   `json:"starts"` // server processes started, the read-back one included
	Deaths  int                                   `json:"deaths"` // servers that died by SIGKILL during the run
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
		c.Resilience = []resilience.Option{
			resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 60, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 250 * time.Millisecond, AttemptTimeout: 2 * time.Second}),
			resilience.WithoutBudget(), resilience.WithoutBreaker(),
		}
	}
	return nil
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
		if killedBySIGKILL(h.err) && n <= s.c.Crashes {
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

func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// RunCrash runs c: it starts a server process (this program in serve
// mode) on c.Store with c.Fault, reads the opening balances, lets
// c.Clients clients make c.Deposits deposits each through
// resilience.Wrap around the transport's client (every retry carries the
// deposit's idempotency key) while the server is restarted on the same
// file and address whenever it dies, and finally reads the ledger back
// from a clean server on the same file. Every process it starts is ended
// before it returns, also on error or panic. Check the result with
// CrashResult.Audit.
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
	months := []bank.Month{bank.MonthOf(t0)}
	res := &CrashResult{Transport: c.Transport.Name, Fault: c.Fault.String(), IgnoreKeys: c.IgnoreKeys}
	opening, before, err := crashReadLedger(ctx, c.Transport, s.addr, accounts, months)
	if err != nil {
		return nil, fmt.Errorf("reading the ledger before the run: %w", err)
	}
	res.Opening = opening

	go s.supervise()
	var stats resilience.Stats
	res.Deposits = crashDeposits(ctx, &c, s.addr, accounts, &stats)
	res.Attempts, res.Retries = stats.Attempts.Load(), stats.Retries.Load()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	cur, errs := s.cur, s.errs
	s.mu.Unlock()
	select {
	case <-cur.done:
		if killedBySIGKILL(cur.err) {
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
	if m := bank.MonthOf(time.Now()); m != months[0] {
		months = append(months, m)
	}
	closing, after, err := crashReadLedger(ctx, c.Transport, s.addr, accounts, months)
	s.mu.Lock()
	h := s.cur
	res.Starts, res.Deaths = s.starts, s.deaths
	s.mu.Unlock()
	defer h.kill()
	if err != nil {
		return res, fmt.Errorf("reading the ledger back: %w", err)
	}
	res.Closing = closing
	res.New = map[bank.AccountNo][]bank.Transaction{}
	for acc, txs := range after {
		old := map[int64]bool{}
		for _, tx := range before[acc] {
			old[tx.ID] = true
		}
		for _, tx := range txs {
			if !old[tx.ID] {
				res.New[acc] = append(res.New[acc], tx)
			}
		}
	}
	if c.ReadBack != nil {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cl, err := crashDial(rctx, c.Transport, s.addr)
		if err != nil {
			return res, err
		}
		defer cl.Close()
		if err := c.ReadBack(rctx, cl, res); err != nil {
			return res, err
		}
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// crashDial dials t at addr, trying again while the server is away.
func crashDial(ctx context.Context, t Transport, addr string) (transport.Client, error) {
	for {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		cl, err := t.Dial(dctx, addr)
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

// crashDeposits makes the run's deposits and returns what each client saw.
func crashDeposits(ctx context.Context, c *CrashConfig, addr string, accounts []bank.AccountNo, stats *resilience.Stats) []CrashDeposit {
	out := make([]CrashDeposit, c.Clients*c.Deposits)
	run := time.Now().UnixNano()
	var wg sync.WaitGroup
	for w := range c.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := out[w*c.Deposits : (w+1)*c.Deposits]
			for i := range mine {
				n := w*c.Deposits + i
				mine[i] = CrashDeposit{
					Key:     fmt.Sprintf("crash-%d-%d-%d", run, w, i),
					Account: accounts[n%len(accounts)],
					// Unique amounts tell the deposits apart in the ledger
					// even when the server dropped their keys.
					Amount: bank.Money(1000 + n),
				}
			}
			cl, err := crashDial(ctx, c.Transport, addr)
			if err != nil {
				for i := range mine {
					mine[i].Code, mine[i].Err = bank.CodeOf(err), err.Error()
				}
				return
			}
			defer cl.Close()
			b := resilience.Wrap(cl, append(append([]resilience.Option(nil), c.Resilience...), resilience.WithStats(stats))...)
			for i := range mine {
				d := &mine[i]
				cctx, cancel := context.WithTimeout(ctx, c.CallTimeout)
				r, err := b.Deposit(cctx, bank.DepositRequest{Account: d.Account, Amount: d.Amount, IdempotencyKey: d.Key})
				cancel()
				if err != nil {
					d.Code, d.Err = bank.CodeOf(err), err.Error()
					continue
				}
				d.Acked, d.Receipt = true, r
			}
		}()
	}
	wg.Wait()
	return out
}

// crashReadLedger reads the balances and the statements of months of
// accounts from the server at addr.
func crashReadLedger(ctx context.Context, t Transport, addr string, accounts []bank.AccountNo, months []bank.Month) (map[bank.AccountNo]bank.Money, map[bank.AccountNo][]bank.Transaction, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl, err := crashDial(ctx, t, addr)
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	bal := map[bank.AccountNo]bank.Money{}
	txs := map[bank.AccountNo][]bank.Transaction{}
	for _, acc := range accounts {
		if bal[acc], err = cl.Balance(ctx, acc); err != nil {
			return nil, nil, fmt.Errorf("balance of %s: %w", acc, err)
		}
		for _, m := range months {
			st, err := cl.Statement(ctx, acc, m)
			if err != nil {
				return nil, nil, fmt.Errorf("statement of %s for %s: %w", acc, m, err)
			}
			txs[acc] = append(txs[acc], st.Transactions...)
		}
	}
	return bal, txs, nil
}

// CrashAudit is the exactly-once check of a crash run.
type CrashAudit struct {
	Deposits int `json:"deposits"` // logical deposits made
	Acked    int `json:"acked"`    // acknowledged to their client
	// Applied counts the logical deposits found in the ledger (once or
	// more); Duplicated those found more than once, and Extra the
	// applications beyond the first (the money deposited twice).
	Applied    int `json:"applied"`
	Duplicated int `json:"duplicated"`
	Extra      int `json:"extra"`
	// LostAcked counts acknowledged deposits the ledger does not have.
	LostAcked int `json:"lost_acked"`
	// FailedApplied counts deposits whose client saw a failure but that
	// the ledger has anyway (allowed: the outcome was unknown).
	FailedApplied int `json:"failed_applied"`
	// Foreign counts new transactions that no client sent.
	Foreign int `json:"foreign"`
	// BalanceOff counts accounts whose closing balance is not the opening
	// balance plus their new transactions.
	BalanceOff int            `json:"balance_off"`
	Failures   map[string]int `json:"failures,omitempty"` // what the clients saw, by code
	Problems   []string       `json:"problems,omitempty"` // the first few findings, for people
}

// ExactlyOnce reports whether every acknowledged deposit is in the ledger
// exactly once, nothing is there twice or unasked, and the balances add
// up.
func (a CrashAudit) ExactlyOnce() bool {
	return a.Duplicated == 0 && a.LostAcked == 0 && a.Foreign == 0 && a.BalanceOff == 0 && len(a.Problems) == 0
}

func (a CrashAudit) String() string {
	return fmt.Sprintf("%d deposits, %d acknowledged, %d applied, %d duplicated (+%d applications), %d acknowledged but lost, %d failed but applied, %d foreign, %d balances off; failures %v",
		a.Deposits, a.Acked, a.Applied, a.Duplicated, a.Extra, a.LostAcked, a.FailedApplied, a.Foreign, a.BalanceOff, a.Failures)
}

// Audit checks the ledger r read back against what its clients saw. A
// transaction is matched to its deposit by account and amount (unique in
// a run), so the check works when the server ignored the keys; with keys
// on, it also checks the key and the receipt's transaction.
func (r *CrashResult) Audit() CrashAudit {
	a := CrashAudit{Deposits: len(r.Deposits), Failures: map[string]int{}}
	type acctAmount struct {
		acc bank.AccountNo
		m   bank.Money
	}
	byAmount := map[acctAmount]int{}
	for i, d := range r.Deposits {
		byAmount[acctAmount{d.Account, d.Amount}] = i
		if d.Acked {
			a.Acked++
		} else {
			a.Failures[d.Code.String()]++
		}
	}
	problem := func(f string, args ...any) {
		if len(a.Problems) < 10 {
			a.Problems = append(a.Problems, fmt.Sprintf(f, args...))
		}
	}
	seen := make([][]bank.Transaction, len(r.Deposits))
	accs := make([]bank.AccountNo, 0, len(r.Closing))
	for acc := range r.Closing {
		accs = append(accs, acc)
	}
	sort.Slice(accs, func(i, j int) bool { return accs[i] < accs[j] })
	for _, acc := range accs {
		sum := bank.Money(0)
		for _, tx := range r.New[acc] {
			sum += tx.Amount
			i, ok := byAmount[acctAmount{acc, tx.Amount}]
			if !ok {
				a.Foreign++
				problem("account %s: transaction %d of %d (key %s) was sent by no client", acc, tx.ID, tx.Amount, tx.IdempotencyKey)
				continue
			}
			seen[i] = append(seen[i], tx)
		}
		if r.Closing[acc] != r.Opening[acc]+sum {
			a.BalanceOff++
			problem("account %s: closing balance %d, want opening %d + new transactions %d", acc, r.Closing[acc], r.Opening[acc], sum)
		}
	}
	for i, d := range r.Deposits {
		txs := seen[i]
		switch {
		case len(txs) == 0 && d.Acked:
			a.LostAcked++
			problem("deposit %s was acknowledged (transaction %d) but is not in the ledger", d.Key, d.Receipt.TransactionID)
		case len(txs) > 0 && !d.Acked:
			a.FailedApplied++
		}
		if len(txs) > 0 {
			a.Applied++
		}
		if len(txs) > 1 {
			a.Duplicated++
			a.Extra += len(txs) - 1
		}
		if r.IgnoreKeys || len(txs) != 1 {
			continue
		}
		if txs[0].IdempotencyKey != d.Key {
			problem("deposit %s is transaction %d with key %s", d.Key, txs[0].ID, txs[0].IdempotencyKey)
		}
		if d.Acked && d.Receipt.TransactionID != txs[0].ID {
			problem("deposit %s: the receipt says transaction %d, the ledger %d", d.Key, d.Receipt.TransactionID, txs[0].ID)
		}
	}
	return a
}
