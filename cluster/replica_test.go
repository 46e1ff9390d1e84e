package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/devcerts"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store/postgres/pgtest"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// dial makes a client of transport tr (a name of transports.Names), with
// the shared settings cc.
func dial(ctx context.Context, tr, addr string, cc transport.ClientConfig) (transport.Client, error) {
	_, v, ok := transports.Lookup(tr)
	if !ok {
		return nil, fmt.Errorf("unknown transport %q", tr)
	}
	return v.Dial(ctx, addr, cc)
}

func startCluster(t *testing.T, ctx context.Context, tr string, n, accounts int, sec cli.ServerSecurity) (*cluster.Cluster, string) {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is not installed under CI (.ci/run installs it)")
		}
		t.Skip("\n\n*** SKIPPED: haproxy is not installed (apt-get install -y haproxy) ***\n\n")
	}
	store := pgtest.Schema(t) + "&lease=300ms&pool_max_conns=8"
	c, err := cluster.StartCluster(ctx, t.TempDir(), tr, bin(t, tr), n, store, accounts, "", cluster.ReplicaFlags{Security: sec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c, store
}

// The same idempotency key sent to two replicas at the same moment, for
// many keys: each is applied once, and both replicas answer with the same
// receipt.
func TestSameKeyOnTwoReplicas(t *testing.T) {
	for _, tr := range []string{"rest", "grpc"} {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			start := time.Now()
			const accounts, keys = 10, 60
			c, _ := startCluster(t, ctx, tr, 2, accounts, cli.ServerSecurity{})
			var clients []transport.Client
			for _, p := range c.Replicas {
				cl, err := dial(ctx, tr, p.Addr, transport.ClientConfig{})
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				clients = append(clients, cl)
			}
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				receipts = map[int][]bank.DepositReceipt{}
				inflight atomic.Int64
			)
			for k := range keys {
				start := make(chan struct{})
				for _, cl := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req := bank.DepositRequest{Account: ledger.SeedAccount(1 + k%accounts), Amount: bank.Money(100 + k), IdempotencyKey: fmt.Sprintf("twice-%d", k)}
						<-start
						for range 100 {
							r, err := cl.Deposit(ctx, req)
							if errors.Is(err, bank.ErrInFlight) {
								inflight.Add(1)
								time.Sleep(10 * time.Millisecond)
								continue
							}
							if err != nil {
								t.Errorf("key %d: %v", k, err)
								return
							}
							mu.Lock()
							receipts[k] = append(receipts[k], r)
							mu.Unlock()
							return
						}
						t.Errorf("key %d: in flight for a whole second", k)
					}()
				}
				close(start)
			}
			wg.Wait()
			var deposits []audit.Deposit
			for k := range keys {
				rs := receipts[k]
				if len(rs) != 2 || rs[0].TransactionID != rs[1].TransactionID || rs[0].Balance != rs[1].Balance || rs[0].Replayed == rs[1].Replayed {
					t.Fatalf("key %d: receipts %+v; want the same receipt twice, one of them a replay", k, rs)
				}
				// One logical deposit per key; its receipt is the
				// original (the other answer was its replay).
				r := rs[0]
				if r.Replayed {
					r = rs[1]
				}
				deposits = append(deposits, audit.Deposit{Key: fmt.Sprintf("twice-%d", k), Account: ledger.SeedAccount(1 + k%accounts), Amount: bank.Money(100 + k), Outcome: audit.Acknowledged, Receipt: r})
			}
			t.Logf("%d keys sent to both replicas at once: each answered twice with one receipt; %d InFlight answers on the way", keys, inflight.Load())
			checkAudit(t, ctx, clients[0], audit.Months(start), deposits)
		})
	}
}

// Three replicas behind HAProxy; one is SIGKILLed in the middle of a
// deposit load that retries with the same key: the load finishes through
// the other two and the audit finds every acknowledged deposit once. The
// "-mtls" cases run it over mutual TLS passed through HAProxy in TCP
// mode: the replicas terminate TLS and authorize every call as the
// teller, whose certificate reaches them through the load balancer.
func TestReplicaKilledBehindHAProxy(t *testing.T) {
	for _, tc := range []struct {
		tr   string
		mtls bool
	}{{"rest", false}, {"grpc", false}, {"grpc", true}, {"raw", true}} {
		name := tc.tr
		if tc.mtls {
			name += "-mtls"
		}
		t.Run(name, func(t *testing.T) {
			tr := tc.tr
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			start := time.Now()
			const accounts, workers, perWorker = 20, 8, 80
			var sec cli.ServerSecurity
			var cc transport.ClientConfig
			if tc.mtls {
				pki := banktest.NewPKI(t)
				sec = cli.ServerSecurity{TLSCert: filepath.Join(pki.Dir, devcerts.ServerCert), TLSKey: filepath.Join(pki.Dir, devcerts.ServerKey),
					ClientCA: filepath.Join(pki.Dir, devcerts.CAFile)}
				cc.TLS = pki.ClientTLS(t, "teller")
			}
			c, _ := startCluster(t, ctx, tr, 3, accounts, sec)
			dial := func(ctx context.Context) (transport.Client, error) { return dial(ctx, tr, c.LB.Addr, cc) }
			var killedAt atomic.Int64
			load := cluster.Load(dial, "lbkill", workers, perWorker, accounts)
			load.OnAck = func(n int64) {
				if n == workers*perWorker/3 && killedAt.CompareAndSwap(0, n) {
					c.Replicas[1].Kill()
				}
			}
			res, err := load.Run(ctx)
			deposits := res.Deposits
			// A load that ended early fails the test, but the audit
			// still runs on what it sent (on a context of its own, as
			// the load's may be over).
			if err != nil {
				t.Errorf("load: %v", err)
			}
			if killedAt.Load() == 0 || !c.Replicas[1].Exited() {
				t.Error("replica 2 was not killed")
			}
			t.Logf("%d deposits acknowledged through HAProxy, replica 2 SIGKILLed after %d; %d attempts, %d retries; codes:%s",
				res.Acknowledged, killedAt.Load(), res.Attempts, res.Retries(), res.Codes())
			if res.Acknowledged != workers*perWorker {
				t.Errorf("%d deposits acknowledged, want %d", res.Acknowledged, workers*perWorker)
			}
			actx, acancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer acancel()
			cl, err := dial(actx)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			checkAudit(t, actx, cl, audit.Months(start), deposits)
		})
	}
}
