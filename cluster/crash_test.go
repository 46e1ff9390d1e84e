package cluster_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/process"
	"github.com/igbank/igbank/common/store/postgres/pgtest"
	"github.com/igbank/igbank/common/transport"
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
	// The supervisor starts the server again on the same address and store
	// each time the killer kills it.
	sup, err := process.Supervise(ctx, func(ctx context.Context, n int) (*process.Proc, error) {
		p, err := cluster.Start(ctx, bin, addr, store, accounts)
		if err != nil {
			return nil, err
		}
		return p.Proc, nil
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sup.Stop()
		sup.Current().Kill()
	})

	dialRaw := func(ctx context.Context) (transport.Client, error) {
		return dial(ctx, "raw", addr, transport.ClientConfig{})
	}
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
			sup.Current().Kill()
			killed++
		}
	}()
	load := cluster.Load(dialRaw, "crash", workers, perWorker, accounts)
	load.OnAck = func(n int64) { acked.Store(n) }
	res, err := load.Run(ctx)
	close(loadDone)
	killed := <-killerDone
	deposits := res.Deposits
	// A load that ended early fails the test, but the audit still runs on
	// what it sent (on a context of its own, as the load's may be over).
	if err != nil {
		t.Errorf("load: %v", err)
	}
	t.Logf("%d deposits acknowledged, %d attempts, %d retries, %d SIGKILLs; codes:%s",
		res.Acknowledged, res.Attempts, res.Retries(), killed, res.Codes())
	if killed < kills {
		t.Errorf("the load ended after %d of %d kills", killed, kills)
	}
	actx, acancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer acancel()
	// One more restart after the load: the audit reads what is on disk.
	if _, ends, err := sup.Stop(); err != nil {
		t.Fatalf("restarting the server: %v (ends: %v)", err, ends)
	}
	sup.Current().Kill()
	p, err := cluster.Start(actx, bin, addr, store, accounts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	c, err := dialRaw(actx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkAudit(t, actx, c, audit.Months(t0), deposits)
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
