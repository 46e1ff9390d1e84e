package audit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// Load is a deposit load whose every deposit Check can account for: the
// one load of the partial-failure lab (the fault scenarios and the crash
// runs) and of the cluster's crash and replica tests. Each logical deposit
// has its own idempotency key, goes through the shared client layers
// (resilience.Wrap) over a client that dials on use and again after a
// failed dial (transport.Lazy), so that a server that is away is a
// retryable error of the call, and ends acknowledged, failed or unknown.
//
// Deposit i goes to account 1+i%Accounts with amount 1000+i: unique
// amounts tell the deposits apart in the ledger even when the server
// dropped their keys.
type Load struct {
	// Dial makes a client of the server (or of the load balancer).
	Dial func(ctx context.Context) (transport.Client, error)
	// Resilience is how the client is wrapped (default Patient()).
	Resilience []resilience.Option
	// SharedClient gives all workers one client, with one retry budget
	// and one breaker, as one process would have; otherwise each worker
	// has a client of its own, as separate processes would.
	SharedClient bool

	Deposits int    // logical deposits in all (required)
	Workers  int    // deposits in progress at once (default 1)
	Accounts int    // the accounts deposited into (default 8)
	Prefix   string // idempotency keys are Prefix-i (default: a random prefix)
	// Over spreads the deposits' starts evenly over this time (0: each
	// worker starts its next deposit as soon as the last one ended).
	Over time.Duration
	// CallTimeout bounds each logical deposit, retries included (0: only
	// the load's context).
	CallTimeout time.Duration
	// StopOnError makes a worker stop at its first deposit that is not
	// acknowledged; Run then returns the first such error.
	StopOnError bool
	// OnAck, if set, is called after each acknowledgment with their count
	// so far (a crash test kills a server at a chosen moment with it).
	OnAck func(n int64)
}

// Call is the record of one logical deposit's call.
type Call struct {
	Start   time.Time
	Latency time.Duration
	// Attempts counts the attempts that reached the transport's client.
	Attempts int
	Err      error
}

// Patient is the default of Load.Resilience: up to 60 attempts, 10 ms to
// 250 ms of full-jitter backoff, 2 s per attempt, no budget and no
// breaker, so that retries outlast a server's restart.
func Patient() []resilience.Option {
	return []resilience.Option{
		resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 60, InitialBackoff: 10 * time.Millisecond,
			MaxBackoff: 250 * time.Millisecond, AttemptTimeout: 2 * time.Second}),
		resilience.WithoutBudget(), resilience.WithoutBreaker(),
	}
}

// LoadResult is what a Load's clients saw.
type LoadResult struct {
	// Deposits are the deposits made, in the order of their numbers, with
	// what their clients learned: what Check takes.
	Deposits []Deposit
	// Calls are the records of their calls, in the same order.
	Calls []Call
	// Acknowledged counts the acknowledged deposits.
	Acknowledged int64
	// Attempts counts the attempts that reached the transport's client,
	// retries included; ByCode counts them by outcome.
	Attempts int64
	ByCode   map[bank.Code]int64
}

// Retries is how many attempts were not a deposit's first.
func (r *LoadResult) Retries() int64 { return r.Attempts - int64(len(r.Deposits)) }

// Codes formats ByCode, for logs: " ok=12 unavailable=3".
func (r *LoadResult) Codes() string {
	var b strings.Builder
	for c := range bank.Code(bank.Canceled + 1) {
		if n := r.ByCode[c]; n > 0 {
			fmt.Fprintf(&b, " %s=%d", c, n)
		}
	}
	return b.String()
}

// Run makes the deposits. A deposit the load's context ended before it
// began is not made and not in the result. With StopOnError, the error is
// the first deposit that was not acknowledged.
func (l Load) Run(ctx context.Context) (*LoadResult, error) {
	workers, accounts := max(l.Workers, 1), l.Accounts
	if accounts <= 0 {
		accounts = 8
	}
	prefix := l.Prefix
	if prefix == "" {
		prefix = "load-" + resilience.NewKey()[:10]
	}
	opts := l.Resilience
	if opts == nil {
		opts = Patient()
	}
	res := &LoadResult{ByCode: map[bank.Code]int64{}}
	var tally attemptTally
	newClient := func() (bank.Bank, func() error) {
		c := transport.Lazy(l.Dial)
		return resilience.Wrap(countingBank{c, &tally}, opts...), c.Close
	}
	var shared bank.Bank
	if l.SharedClient {
		var closeShared func() error
		shared, closeShared = newClient()
		defer closeShared()
	}

	deposits := make([]Deposit, l.Deposits)
	calls := make([]Call, l.Deposits)
	start := time.Now()
	var (
		next, acks atomic.Int64
		started    = make([]bool, l.Deposits)
		mu         sync.Mutex
		first      error
		wg         sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			b := shared
			if b == nil {
				var closeClient func() error
				b, closeClient = newClient()
				defer closeClient()
			}
			for {
				i := int(next.Add(1) - 1)
				if i >= l.Deposits || ctx.Err() != nil {
					return
				}
				if l.Over > 0 {
					select {
					case <-time.After(time.Until(start.Add(time.Duration(i) * l.Over / time.Duration(l.Deposits)))):
					case <-ctx.Done():
						return
					}
				}
				d := Deposit{Key: fmt.Sprintf("%s-%d", prefix, i), Account: ledger.SeedAccount(1 + i%accounts), Amount: bank.Money(1000 + i)}
				cctx, cancel := ctx, context.CancelFunc(func() {})
				if l.CallTimeout > 0 {
					cctx, cancel = context.WithTimeout(ctx, l.CallTimeout)
				}
				attempts := new(atomic.Int64)
				cctx = context.WithValue(cctx, attemptsKey{}, attempts)
				t0 := time.Now()
				r, err := b.Deposit(cctx, bank.DepositRequest{Account: d.Account, Amount: d.Amount, IdempotencyKey: d.Key})
				lat := time.Since(t0)
				cancel()
				d.Outcome, d.Code, d.Receipt = OutcomeOf(err), bank.CodeOf(err), r
				mu.Lock()
				deposits[i], started[i] = d, true
				calls[i] = Call{Start: t0, Latency: lat, Attempts: int(attempts.Load()), Err: err}
				if err != nil && first == nil {
					first = fmt.Errorf("deposit %s not acknowledged: %w", d.Key, err)
				}
				mu.Unlock()
				if err != nil && l.StopOnError {
					return
				}
				if err == nil {
					n := acks.Add(1)
					if l.OnAck != nil {
						l.OnAck(n)
					}
				}
			}
		})
	}
	wg.Wait()
	for i := range deposits {
		if started[i] {
			res.Deposits, res.Calls = append(res.Deposits, deposits[i]), append(res.Calls, calls[i])
		}
	}
	res.Acknowledged = acks.Load()
	res.Attempts, res.ByCode = tally.counts()
	if !l.StopOnError {
		first = nil
	}
	return res, first
}

// attemptsKey is the context key of a deposit's attempt counter.
type attemptsKey struct{}

// attemptTally counts the attempts of a load by outcome.
type attemptTally struct {
	mu     sync.Mutex
	byCode [bank.Canceled + 1]int64
}

func (t *attemptTally) add(err error) {
	t.mu.Lock()
	t.byCode[bank.CodeOf(err)]++
	t.mu.Unlock()
}

func (t *attemptTally) counts() (int64, map[bank.Code]int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	m := map[bank.Code]int64{}
	for c, k := range t.byCode {
		if k > 0 {
			m[bank.Code(c)] = k
			n += k
		}
	}
	return n, m
}

// countingBank counts each deposit it passes on in the load's tally and
// in the attempt counter of the call's context. It sits under the retry
// layer, so it sees each attempt that reaches the transport. A load only
// makes deposits.
type countingBank struct {
	bank.Bank
	tally *attemptTally
}

func (c countingBank) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if n, ok := ctx.Value(attemptsKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	r, err := c.Bank.Deposit(ctx, req)
	c.tally.add(err)
	return r, err
}

// Months returns the months of a run that started at start and ends now
// (one, or two when it crossed the end of a month): the statements Check
// reads.
func Months(start time.Time) []bank.Month {
	ms := []bank.Month{bank.MonthOf(start)}
	if m := bank.MonthOf(time.Now()); m != ms[0] {
		ms = append(ms, m)
	}
	return ms
}
