package directory_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/directory"
	"github.com/igbank/igbank/common/directory/etcdtest"
	"github.com/igbank/igbank/common/transport"
)

// open connects to the test etcd, closed when the test ends.
func open(t *testing.T) *directory.Directory {
	t.Helper()
	d, err := directory.Open([]string{etcdtest.Endpoint(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// waitFor waits up to within for the set to hold want, and fails the
// test with what it holds otherwise.
func waitFor(t *testing.T, s transport.Addrs, want []string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(within)
	for {
		changed := s.Changed()
		if got := s.Addrs(); slices.Equal(got, want) {
			return time.Since(start)
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("after %v the set is %v, want %v", within, s.Addrs(), want)
		}
	}
}

func TestRegisterResolveRevoke(t *testing.T) {
	d := open(t)
	ctx := t.Context()
	name := etcdtest.Name(t, "raw")
	set, err := d.Resolve(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if got := set.Addrs(); len(got) != 0 {
		t.Fatalf("a fresh name resolves to %v, want nothing", got)
	}
	var regs []*directory.Registration
	var want []string
	for i := range 3 {
		addr := fmt.Sprintf("127.0.0.1:%d", 4100+i)
		r, err := d.Register(ctx, name, addr, addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if r.Key() != name+"/"+addr {
			t.Errorf("key %q, want %q", r.Key(), name+"/"+addr)
		}
		regs = append(regs, r)
		want = append(want, addr)
	}
	waitFor(t, set, want, 5*time.Second)

	// A second watcher that starts now reads the same set.
	set2, err := directory.Watch(ctx, d.Client, name)
	if err != nil {
		t.Fatal(err)
	}
	defer set2.Close()
	if got := set2.Addrs(); !slices.Equal(got, want) {
		t.Errorf("a new watcher reads %v, want %v", got, want)
	}

	// Leases are kept alive past their TTL.
	time.Sleep(3 * time.Second)
	if got := set.Addrs(); !slices.Equal(got, want) {
		t.Fatalf("after 1.5 TTL with heartbeats the set is %v, want %v", got, want)
	}

	// Close revokes: the address leaves at once, not a TTL later.
	if err := regs[1].Close(); err != nil {
		t.Fatal(err)
	}
	if took := waitFor(t, set, []string{want[0], want[2]}, 5*time.Second); took > time.Second {
		t.Errorf("revoked address left after %v, want well under the 2 s TTL", took)
	}
	regs[0].Close()
	regs[2].Close()
	waitFor(t, set, []string{}, 5*time.Second)
}

func TestLeaseExpiryRemoves(t *testing.T) {
	d := open(t)
	ctx := t.Context()
	name := etcdtest.Name(t, "grpc")
	set, err := d.Resolve(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	live, err := d.Register(ctx, name, "live", "127.0.0.1:4200", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	// A server that dies: its own etcd connection closed without a
	// revoke, so its heartbeats stop and only the TTL removes it.
	dying, err := directory.Open([]string{etcdtest.Endpoint(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dying.Register(ctx, name, "dying", "127.0.0.1:4201", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, set, []string{"127.0.0.1:4200", "127.0.0.1:4201"}, 5*time.Second)
	dying.Close()
	took := waitFor(t, set, []string{"127.0.0.1:4200"}, 10*time.Second)
	t.Logf("an expired lease left the set %v after its heartbeats stopped (TTL 2 s)", took.Round(time.Millisecond))
	if took < time.Second {
		t.Errorf("left after %v: before its lease could expire (TTL 2 s), as if revoked", took)
	}
}

func TestRegisterAgainAfterLeaseLost(t *testing.T) {
	d := open(t)
	ctx := t.Context()
	name := etcdtest.Name(t, "netrpc")
	set, err := d.Resolve(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	r, err := d.Register(ctx, name, "a", "127.0.0.1:4300", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor(t, set, []string{"127.0.0.1:4300"}, 5*time.Second)
	// What etcd does to the lease of a server paused past its TTL.
	resp, err := d.Client.Get(ctx, r.Key())
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get %s: %v %v", r.Key(), resp, err)
	}
	if _, err := d.Client.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, set, []string{}, 5*time.Second)
	waitFor(t, set, []string{"127.0.0.1:4300"}, 10*time.Second)
	for deadline := time.Now().Add(5 * time.Second); r.Renewals() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("renewals %d, want 1", r.Renewals())
		}
	}
}

func TestBadNames(t *testing.T) {
	d := open(t)
	for _, name := range []string{"", "grpc", "igbank/", "igbank//x", "other/grpc", "igbank/a b"} {
		if _, err := d.Resolve(t.Context(), name); err == nil {
			t.Errorf("Resolve(%q) succeeded", name)
		}
		if _, err := d.Register(t.Context(), name, "i", "127.0.0.1:1", time.Second); err == nil {
			t.Errorf("Register(%q) succeeded", name)
		}
	}
}

// fakeClient is a server at addr that answers every balance with the
// number of calls it has served.
type fakeClient struct {
	bank.Bank
	addr   string
	mu     sync.Mutex
	calls  int
	closed bool
}

func (f *fakeClient) Balance(context.Context, bank.AccountNo) (bank.Money, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, bank.Errorf(bank.Unavailable, "closed")
	}
	f.calls++
	return bank.Money(f.calls), nil
}

func (f *fakeClient) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func TestBalancerFollowsSet(t *testing.T) {
	d := open(t)
	ctx := t.Context()
	name := etcdtest.Name(t, "thrift")
	var mu sync.Mutex
	clients := map[string]*fakeClient{}
	dial := func(_ context.Context, addr string) (transport.Client, error) {
		mu.Lock()
		defer mu.Unlock()
		c := &fakeClient{addr: addr}
		clients[addr] = c
		return c, nil
	}
	set, err := d.Resolve(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	b := directory.NewBalancer(set, dial, name)
	defer b.Close()
	if _, err := b.Balance(ctx, "000000001"); bank.CodeOf(err) != bank.Unavailable || !strings.Contains(err.Error(), name) {
		t.Fatalf("no server registered: %v, want unavailable naming %s", err, name)
	}
	ra, err := d.Register(ctx, name, "a", "a:1", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := d.Register(ctx, name, "b", "b:1", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	waitBalancer(t, b, []string{"a:1", "b:1"})
	for range 10 {
		if _, err := b.Balance(ctx, "000000001"); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	if clients["a:1"].calls != 5 || clients["b:1"].calls != 5 {
		t.Errorf("calls a %d, b %d: want 5 each (round robin)", clients["a:1"].calls, clients["b:1"].calls)
	}
	mu.Unlock()
	rb.Close()
	waitBalancer(t, b, []string{"a:1"})
	mu.Lock()
	gone := clients["b:1"]
	mu.Unlock()
	if _, err := gone.Balance(ctx, "000000001"); err == nil {
		t.Error("the client of a server that left the set is still open")
	}
	for range 4 {
		if _, err := b.Balance(ctx, "000000001"); err != nil {
			t.Fatalf("with b gone: %v", err)
		}
	}
}

func waitBalancer(t *testing.T, b *directory.Balancer, want []string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !slices.Equal(b.Addrs(), want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("balancer sends to %v, want %v", b.Addrs(), want)
		}
	}
}
