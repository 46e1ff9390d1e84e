package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// Dialer connects a client to the cluster (directly or through the load
// balancer).
type Dialer func(ctx context.Context) (transport.Client, error)

// LoadStats counts what a deposit load saw.
type LoadStats struct {
	Deposits int64 // logical deposits acknowledged (Acknowledged outcomes)
	Attempts int64 // calls made, retries included
	Retries  int64 // calls that failed and were tried again
	ByCode   map[bank.Code]int64
}

// loadRetry is DepositLoad's retry policy: short pauses, and attempts
// enough that only the load's context ends the retries of a deposit while
// a replica restarts or HAProxy moves on to another.
var loadRetry = resilience.RetryPolicy{MaxAttempts: 1000, InitialBackoff: 5 * time.Millisecond,
	MaxBackoff: 25 * time.Millisecond, AttemptTimeout: 2 * time.Second}

// DepositLoad makes workers×perWorker logical deposits to accounts 1 to
// accounts, each with its own idempotency key (prefix-w-i), through the
// shared retry layer (common/resilience, without budget or breaker) over
// a client per worker that dials on use and again after a failed dial
// (transport.Lazy): every retryable failure, a dropped connection
// included, is retried with the same key until the cluster answers. It
// stops early when ctx ends or a call fails with an error that is not
// retried, and then returns the first such error.
//
// It returns what the clients learned about every logical deposit it
// made, for audit.Check: the acknowledged ones with their receipts, and
// the one each worker gave up on with the outcome of its error
// (audit.OutcomeOf: Unknown when ctx ended, Failed for a definite business
// error). onAck, if set, is called after each acknowledgment (the crash
// tests use it to kill a server at a chosen moment).
func DepositLoad(ctx context.Context, dial Dialer, prefix string, workers, perWorker, accounts int, onAck func(n int64)) ([]audit.Deposit, LoadStats, error) {
	var (
		mu    sync.Mutex
		deps  []audit.Deposit
		st    = LoadStats{ByCode: map[bank.Code]int64{}}
		rs    resilience.Stats
		wg    sync.WaitGroup
		first error
		n     atomic.Int64
	)
	countCode := resilience.Hooks{Attempt: func(_ bank.Op, _ int, err error) {
		mu.Lock()
		st.ByCode[bank.CodeOf(err)]++
		mu.Unlock()
	}}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			c := transport.Lazy(dial)
			defer c.Close()
			b := resilience.Wrap(c, resilience.WithRetry(loadRetry), resilience.WithoutBudget(), resilience.WithoutBreaker(),
				resilience.WithStats(&rs), resilience.WithHooks(countCode))
			for i := range perWorker {
				if ctx.Err() != nil {
					return // not sent: nothing to audit
				}
				req := bank.DepositRequest{
					Account:        ledger.SeedAccount(1 + rng.IntN(accounts)),
					Amount:         bank.Money(1 + rng.IntN(100_000)),
					IdempotencyKey: fmt.Sprintf("%s-%d-%d", prefix, w, i),
				}
				r, err := b.Deposit(ctx, req)
				mu.Lock()
				deps = append(deps, audit.Deposit{Key: req.IdempotencyKey, Account: req.Account, Amount: req.Amount,
					Outcome: audit.OutcomeOf(err), Code: bank.CodeOf(err), Receipt: r})
				if err == nil {
					st.Deposits++
				} else if first == nil {
					first = fmt.Errorf("deposit %s not acknowledged: %w", req.IdempotencyKey, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
				if onAck != nil {
					onAck(n.Add(1))
				}
			}
		}()
	}
	wg.Wait()
	st.Attempts, st.Retries = rs.Attempts.Load(), rs.Retries.Load()
	return deps, st, first
}

// Months returns the months of a run that started at start and ends now
// (one, or two when it crossed the end of a month): the statements
// audit.Check reads.
func Months(start time.Time) []bank.Month {
	ms := []bank.Month{bank.MonthOf(start)}
	if m := bank.MonthOf(time.Now()); m != ms[0] {
		ms = append(ms, m)
	}
	return ms
}

// Codes formats the counts by code, for logs.
func (s LoadStats) Codes() string {
	var cs []bank.Code
	for c := range s.ByCode {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
	out := ""
	for _, c := range cs {
		out += fmt.Sprintf(" %s=%d", c, s.ByCode[c])
	}
	return out
}
