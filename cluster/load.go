package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// Dialer connects a client to the cluster (directly or through the load
// balancer).
type Dialer func(ctx context.Context) (transport.Client, error)

// Ack is a deposit the cluster acknowledged.
type Ack struct {
	Key      string
	Account  bank.AccountNo
	Amount   bank.Money
	TxID     int64
	Replayed bool // the acknowledgment was a replay (an earlier attempt was applied)
}

// LoadStats counts what a deposit load saw.
type LoadStats struct {
	Deposits int64 // logical deposits acknowledged
	Attempts int64 // calls made, retries included
	Retries  int64 // calls that failed and were tried again
	ByCode   map[bank.Code]int64
}

// DepositLoad makes workers×perWorker logical deposits to accounts 1 to
// accounts, each with its own idempotency key (prefix-w-i) and retried
// with that same key until the cluster answers (a simple loop: every
// retryable failure, including a dropped connection, is retried after a
// short pause; a broken client is replaced). It stops early when ctx ends.
// onAck, if set, is called after each acknowledgment (the crash tests use
// it to kill a server at a chosen moment).
func DepositLoad(ctx context.Context, dial Dialer, prefix string, workers, perWorker, accounts int, onAck func(n int64)) ([]Ack, LoadStats, error) {
	var (
		mu    sync.Mutex
		acks  []Ack
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
				for attempt := 0; ; attempt++ {
					if ctx.Err() != nil {
						fail(fmt.Errorf("deposit %s not acknowledged: %w", req.IdempotencyKey, ctx.Err()))
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
					r, err := c.Deposit(actx, req)
					cancel()
					mu.Lock()
					st.Attempts++
					st.ByCode[bank.CodeOf(err)]++
					mu.Unlock()
					if err == nil {
						mu.Lock()
						acks = append(acks, Ack{req.IdempotencyKey, req.Account, req.Amount, r.TransactionID, r.Replayed})
						st.Deposits++
						mu.Unlock()
						if onAck != nil {
							onAck(n.Add(1))
						}
						break
					}
					code := bank.CodeOf(err)
					if !code.Retryable() && code != bank.Canceled && code != bank.Internal {
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
	return acks, st, first
}

// Audit checks the ledger against the acknowledged deposits: every one is
// in its account's statement for month exactly once, with the transaction
// id its receipt gave, no other deposit with the prefix is there, and each
// account's balance is its seed balance plus its acknowledged deposits.
// It assumes that accounts 1 to accounts got no other deposits since they
// were seeded.
func Audit(ctx context.Context, b bank.Bank, prefix string, accounts int, acks []Ack, month bank.Month) error {
	byAcc := map[bank.AccountNo][]Ack{}
	for _, a := range acks {
		byAcc[a.Account] = append(byAcc[a.Account], a)
	}
	var errs []error
	for i := 1; i <= accounts; i++ {
		acc := ledger.SeedAccount(i)
		want := ledger.SeedBalance(i)
		keys := map[string]Ack{}
		for _, a := range byAcc[acc] {
			want += a.Amount
			keys[a.Key] = a
		}
		got, err := b.Balance(ctx, acc)
		if err != nil {
			return fmt.Errorf("audit: balance of %s: %w", acc, err)
		}
		if got != want {
			errs = append(errs, fmt.Errorf("account %s: balance %d, want %d (seed %d + %d acknowledged deposits)", acc, got, want, ledger.SeedBalance(i), len(byAcc[acc])))
		}
		st, err := b.Statement(ctx, acc, month)
		if err != nil {
			return fmt.Errorf("audit: statement of %s: %w", acc, err)
		}
		seen := map[string]int{}
		for _, tx := range st.Transactions {
			if len(tx.IdempotencyKey) < len(prefix) || tx.IdempotencyKey[:len(prefix)] != prefix {
				continue
			}
			seen[tx.IdempotencyKey]++
			a, ok := keys[tx.IdempotencyKey]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("account %s: transaction %d with key %s was never acknowledged", acc, tx.ID, tx.IdempotencyKey))
			case a.TxID != tx.ID || a.Amount != tx.Amount:
				errs = append(errs, fmt.Errorf("account %s: key %s is transaction %d of %d, but the receipt said %d of %d", acc, a.Key, tx.ID, tx.Amount, a.TxID, a.Amount))
			}
		}
		for k := range keys {
			if seen[k] != 1 {
				errs = append(errs, fmt.Errorf("account %s: acknowledged deposit %s is in the statement %d times, want once", acc, k, seen[k]))
			}
		}
		if len(errs) > 20 {
			break
		}
	}
	return errors.Join(errs...)
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
