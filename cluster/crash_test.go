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
	"github.com/igbank/igbank/common/audit"
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
	t0 := time.Now()
	addr, err := cluster.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		proc *cluster.Proc
	)
	start := func(ctx context.Context) bool {
		t.Helper()
		p, err := cluster.Start(ctx, bin, addr, store, accounts)
		if err != nil {
			t.Error(err)
			return false
		}
		mu.Lock()
		proc = p
		mu.Unlock()
		return true
	}
	if !start(ctx) {
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
			start(ctx)
		}
	}()
	deposits, st, err := cluster.DepositLoad(ctx, dial, "crash", workers, perWorker, accounts, func(n int64) { acked.Store(n) })
	close(loadDone)
	killed := <-killerDone
	// A load that ended early fails the test, but the audit still runs on
	// what it sent (on a context of its own, as the load's may be over).
	if err != nil {
		t.Errorf("load: %v", err)
	}
	t.Logf("%d deposits acknowledged, %d attempts, %d retries, %d SIGKILLs; codes:%s",
		st.Deposits, st.Attempts, st.Retries, killed, st.Codes())
	if killed < kills {
		t.Errorf("the load ended after %d of %d kills", killed, kills)
	}
	actx, acancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer acancel()
	// One more restart after the load: the audit reads what is on disk.
	mu.Lock()
	proc.Kill()
	mu.Unlock()
	if !start(actx) {
		t.FailNow()
	}
	c, err := dial(actx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkAudit(t, actx, c, cluster.Months(t0), deposits)
	// Acknowledged keys are replayed with their receipts.
	n := 0
	for _, d := range deposits {
		if d.Outcome != audit.Acknowledged || n == 50 {
			continue
		}
		n++
		r, err := c.Deposit(actx, bank.DepositRequest{Account: d.Account, Amount: d.Amount, IdempotencyKey: d.Key})
		if err != nil || !r.Replayed || r.TransactionID != d.Receipt.TransactionID {
			t.Fatalf("replay of %s = %+v, %v; want transaction %d replayed", d.Key, r, err, d.Receipt.TransactionID)
		}
	}
}
