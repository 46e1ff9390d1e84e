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

// DepositLoad makes workers×perWorker logical deposits to accounts 1 to
// accounts, each with its own idempotency key (prefix-w-i) and retried
// with that same key until the cluster answers (a simple loop: every
// retryable failure, including a dropped connection, is retried after a
// short pause; a broken client is replaced). It stops early when ctx ends
// or a call fails with an error it does not retry, and then returns the
// first such error.
//
// It returns what the clients learned about every logical deposit that was
// sent at least once, for audit.Check: the acknowledged ones with their
// receipts, and also those the load gave up on, whose outcome is the last
// error's (audit.OutcomeOf: Unknown when ctx ended between retries, Failed
// for a definite business error). Deposits never sent are left out.
// onAck, if set, is called after each acknowledgment (the crash tests use
// it to kill a server at a chosen moment).
func DepositLoad(ctx context.Context, dial Dialer, prefix string, workers, perWorker, accounts int, onAck func(n int64)) ([]audit.Deposit, LoadStats, error) {
	var (
		mu    sync.Mutex
		deps  []audit.Deposit
		st    = LoadStats{ByCode: map[bank.Code]int64{}}
		wg    sync.WaitGroup
		first error
		n     atomic.Int64
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var c transport.Client
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for i := range perWorker {
				req := bank.DepositRequest{
					Account:        ledger.SeedAccount(1 + rng.IntN(accounts)),
					Amount:         bank.Money(1 + rng.IntN(100_000)),
					IdempotencyKey: fmt.Sprintf("%s-%d-%d", prefix, w, i),
				}
				d := audit.Deposit{Key: req.IdempotencyKey, Account: req.Account, Amount: req.Amount}
				sent := false
				// giveUp records d, if it was ever sent, with the
				// outcome err says.
				giveUp := func(err error) {
					if sent {
						d.Outcome, d.Code = audit.OutcomeOf(err), bank.CodeOf(err)
						mu.Lock()
						deps = append(deps, d)
						mu.Unlock()
					}
				}
				var last error // the last call's error
				for {
					if ctx.Err() != nil {
						if last == nil {
							last = ctx.Err()
						}
						giveUp(last)
						fail(fmt.Errorf("deposit %s not acknowledged: %w (last error: %v)", req.IdempotencyKey, ctx.Err(), last))
						return
					}
					if c == nil {
						dctx, cancel := context.WithTimeout(ctx, time.Second)
						var err error
						c, err = dial(dctx)
						cancel()
						if err != nil {
							c = nil
							time.Sleep(20 * time.Millisecond)
							continue
						}
					}
					actx, cancel := context.WithTimeout(ctx, 2*time.Second)
					sent = true
					r, err := c.Deposit(actx, req)
					cancel()
					last = err
					mu.Lock()
					st.Attempts++
					st.ByCode[bank.CodeOf(err)]++
					mu.Unlock()
					if err == nil {
						mu.Lock()
						d.Outcome, d.Code, d.Receipt = audit.Acknowledged, bank.OK, r
						deps = append(deps, d)
						st.Deposits++
						mu.Unlock()
						if onAck != nil {
							onAck(n.Add(1))
						}
						break
					}
					code := bank.CodeOf(err)
					if !code.Retryable() && code != bank.Canceled && code != bank.Internal {
						giveUp(err)
						fail(fmt.Errorf("deposit %s: %w", req.IdempotencyKey, err))
						return
					}
					mu.Lock()
					st.Retries++
					mu.Unlock()
					if code == bank.Unavailable || code == bank.DeadlineExceeded {
						c.Close()
						c = nil
					}
					time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
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
