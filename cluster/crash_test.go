package cluster_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/store/postgres/pgtest"
	"github.com/igbank/igbank/common/transport"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

// TestCrashSafety SIGKILLs a server at random moments of a deposit load
// whose client retries every deposit with its idempotency key until it is
// answered, restarts it on the same store, and then audits: every
// acknowledged deposit is there exactly once and the balances add up.
func TestCrashSafety(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "bank.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.Schema(t) + "&lease=300ms" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crashRun(t, bin(t, "raw"), tc.store(t))
		})
	}
}

func crashRun(t *testing.T, bin, store string) {
	const (
		accounts  = 20
		workers   = 8
		perWorker = 60
		kills     = 5
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr, err := cluster.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		proc *cluster.Proc
	)
	start := func() {
		t.Helper()
		p, err := cluster.Start(ctx, bin, addr, store, accounts)
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		proc = p
		mu.Unlock()
	}
	start()
	if t.Failed() {
		t.FailNow()
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if proc != nil {
			proc.Kill()
		}
	})

	dial := func(ctx context.Context) (transport.Client, error) { return rawbank.Dial(ctx, addr) }
	// The killer strikes at random points of the load's progress (not of
	// time, so that a fast store cannot finish before the first kill):
	// kill k happens after about k/(kills+1) of the deposits, give or take
	// a random share.
	var acked atomic.Int64
	loadDone := make(chan struct{})
	killerDone := make(chan int)
	go func() {
		killed := 0
		defer func() { killerDone <- killed }()
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
		step := int64(workers * perWorker / (kills + 1))
		for killed < kills {
			at := int64(killed+1)*step - step/2 + rng.Int64N(step)
			for acked.Load() < at {
				select {
				case <-loadDone:
					return
				case <-time.After(time.Millisecond):
				}
			}
			mu.Lock()
			p := proc
			mu.Unlock()
			p.Kill()
			killed++
			start()
		}
	}()
	acks, st, err := cluster.DepositLoad(ctx, dial, "crash", workers, perWorker, accounts, func(n int64) { acked.Store(n) })
	close(loadDone)
	killed := <-killerDone
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	replayed := 0
	for _, a := range acks {
		if a.Replayed {
			replayed++
		}
	}
	t.Logf("%d deposits acknowledged (%d of them as replays of an earlier attempt), %d attempts, %d retries, %d SIGKILLs; codes:%s",
		st.Deposits, replayed, st.Attempts, st.Retries, killed, st.Codes())
	if killed < kills {
		t.Fatalf("the load ended after %d of %d kills", killed, kills)
	}
	// One more restart after the load: the audit reads what is on disk.
	mu.Lock()
	proc.Kill()
	mu.Unlock()
	start()
	c, err := dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := cluster.Audit(ctx, c, "crash", accounts, acks, bank.MonthOf(time.Now())); err != nil {
		t.Fatalf("audit after %d SIGKILLs:\n%v", killed, err)
	}
	// Every acknowledged key is replayed with its receipt.
	for _, a := range acks[:min(len(acks), 50)] {
		r, err := c.Deposit(ctx, bank.DepositRequest{Account: a.Account, Amount: a.Amount, IdempotencyKey: a.Key})
		if err != nil || !r.Replayed || r.TransactionID != a.TxID {
			t.Fatalf("replay of %s = %+v, %v; want transaction %d replayed", a.Key, r, err, a.TxID)
		}
	}
}
