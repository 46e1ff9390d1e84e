package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/directory"
	"github.com/igbank/igbank/common/directory/etcdtest"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// TestDirectoryFailover starts three replicas (processes of their own,
// in-memory stores) that register under a fresh logical name, and a
// client that resolves the name, over raw sockets (directory.Balancer)
// and gRPC (its resolver interface): the client's calls reach every
// replica; after one is SIGKILLed the calls through the shared retry
// layers keep succeeding, and the dead address leaves the set once its
// lease expires.
func TestDirectoryFailover(t *testing.T) {
	ep := etcdtest.Endpoint(t)
	for _, tr := range []string{"raw", "grpc"} {
		t.Run(tr, func(t *testing.T) { directoryFailover(t, ep, tr) })
	}
}

func directoryFailover(t *testing.T, ep, tr string) {
	const ttl = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	name := etcdtest.Name(t, tr)
	target := "etcd://" + ep + "/" + name
	server := bin(t, tr)
	d, v, _ := transports.Lookup(tr)
	dir, err := directory.Open([]string{ep})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	set, err := directory.Watch(ctx, dir.Client, name)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()

	var procs []*cluster.Proc
	var addrs []string
	for range 3 {
		addr, err := cluster.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		p, err := cluster.Start(ctx, server, addr, "memory", 10, "-register", target, "-lease-ttl", ttl.String())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop(5 * time.Second)
		procs = append(procs, p)
		addrs = append(addrs, addr)
	}
	slices.Sort(addrs)
	// A replica registers before its ready line: the set is complete.
	if got := set.Addrs(); !slices.Equal(got, addrs) {
		waitSet(t, set, addrs, 5*time.Second)
	}

	// Each replica has a ledger of its own: its balance of the account
	// tells whether the client's deposits reached it.
	const acc = bank.AccountNo("000000001")
	seed := balances(t, ctx, v, procs, acc)
	c, err := directory.Dial(ctx, d, v, target, "", transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := resilience.Wrap(c, resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 20, InitialBackoff: 10 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, AttemptTimeout: time.Second}), resilience.WithoutBudget(), resilience.WithoutBreaker())
	deposit := func(i int) error {
		_, err := b.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: fmt.Sprintf("%s-%d", name, i)})
		return err
	}
	for i := range 60 {
		if err := deposit(i); err != nil {
			t.Fatalf("deposit %d through %s: %v", i, target, err)
		}
	}
	after := balances(t, ctx, v, procs, acc)
	for i := range procs {
		if after[i] == seed[i] {
			t.Errorf("replica %s got none of 60 deposits made through %s (balances before %v, after %v)", procs[i].Addr, target, seed, after)
		}
	}

	// SIGKILL one replica: no revoke, only the lease's expiry removes it.
	dead := procs[0]
	dead.Kill()
	killed := time.Now()
	left := make(chan time.Duration, 1)
	go func() {
		waitSet(t, set, slices.DeleteFunc(slices.Clone(addrs), func(a string) bool { return a == dead.Addr }), ttl+8*time.Second)
		left <- time.Since(killed)
	}()
	calls := 0
	for done := false; !done; calls++ {
		if err := deposit(1000 + calls); err != nil {
			t.Fatalf("deposit %d after the kill, through the retry layers: %v", calls, err)
		}
		select {
		case took := <-left:
			t.Logf("%s: the killed replica's address left the set %v after the kill (lease TTL %v); %d deposits meanwhile, all succeeded",
				tr, took.Round(time.Millisecond), ttl, calls+1)
			done = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	for i := range 20 {
		if err := deposit(2000 + i); err != nil {
			t.Fatalf("deposit after the address left: %v", err)
		}
	}
}

// waitSet waits for the set to hold want, failing the test after within.
func waitSet(t *testing.T, s transport.Addrs, want []string, within time.Duration) {
	deadline := time.After(within)
	for {
		changed := s.Changed()
		if slices.Equal(s.Addrs(), want) {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Errorf("after %v the directory lists %v, want %v", within, s.Addrs(), want)
			return
		}
	}
}

// balances reads acc's balance on each replica directly.
func balances(t *testing.T, ctx context.Context, v transport.Variant, procs []*cluster.Proc, acc bank.AccountNo) []bank.Money {
	t.Helper()
	var ms []bank.Money
	for _, p := range procs {
		c, err := v.Dial(ctx, p.Addr, transport.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := c.Balance(ctx, acc)
		c.Close()
		if err != nil {
			t.Fatalf("balance on %s: %v", p.Addr, err)
		}
		ms = append(ms, m)
	}
	return ms
}
