package directory

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

// Balancer is a transport.Client of every server in a set of addresses:
// one client per address, dialed when the address joins the set (on its
// first call) and closed when it leaves, with calls spread round robin.
// It is how the transports without a resolver of their own follow a
// logical name.
//
// It sits below the shared client layers (resilience.Wrap), as one
// client does: a call on a replica that died fails as unavailable (its
// connection refused or broken), or as the attempt's deadline on one that
// hangs, and the retry's next attempt goes to the next address. Once the
// directory removes the address, no call goes there and the calls still
// in flight on it fail at once (its client is closed). Picking per call
// rather than per connection (a Dialer choosing an address at each dial)
// is what makes it follow the set: a pooled connection to a paused
// server does not break, so a dialer would never be asked again.
type Balancer struct {
	set  transport.Addrs
	dial transport.DialFunc
	name string
	next atomic.Uint64
	done chan struct{}

	mu      sync.RWMutex
	addrs   []string
	clients map[string]transport.Client
	closed  bool
}

// NewBalancer returns a Balancer over set, dialing each address with
// dial; name is the logical name, for errors. Close closes set too.
func NewBalancer(set transport.Addrs, dial transport.DialFunc, name string) *Balancer {
	b := &Balancer{set: set, dial: dial, name: name, done: make(chan struct{}), clients: map[string]transport.Client{}}
	changed := set.Changed()
	b.sync(set.Addrs())
	go b.follow(changed)
	return b
}

// follow keeps the clients in step with the set until Close.
func (b *Balancer) follow(changed <-chan struct{}) {
	for {
		select {
		case <-b.done:
			return
		case <-changed:
		}
		changed = b.set.Changed()
		b.sync(b.set.Addrs())
	}
}

// sync makes the clients those of addrs: new addresses get a client that
// dials on its first call, gone ones have theirs closed.
func (b *Balancer) sync(addrs []string) {
	var gone []transport.Client
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	keep := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		keep[a] = true
		if b.clients[a] == nil {
			b.clients[a] = transport.Lazy(func(ctx context.Context) (transport.Client, error) { return b.dial(ctx, a) })
		}
	}
	for a, c := range b.clients {
		if !keep[a] {
			gone = append(gone, c)
			delete(b.clients, a)
		}
	}
	b.addrs = addrs
	b.mu.Unlock()
	for _, c := range gone {
		c.Close()
	}
}

// Addrs returns the addresses the balancer sends calls to now.
func (b *Balancer) Addrs() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return append([]string(nil), b.addrs...)
}

// pick returns the client of the next address, round robin.
func (b *Balancer) pick() (transport.Client, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, bank.Errorf(bank.Unavailable, "directory: client of %s closed", b.name)
	}
	if len(b.addrs) == 0 {
		return nil, bank.Errorf(bank.Unavailable, "directory: no server registered under %s", b.name)
	}
	a := b.addrs[(b.next.Add(1)-1)%uint64(len(b.addrs))]
	return b.clients[a], nil
}

// Balance implements bank.Bank on the next server.
func (b *Balancer) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	c, err := b.pick()
	if err != nil {
		return 0, err
	}
	return c.Balance(ctx, acc)
}

// Statement implements bank.Bank on the next server.
func (b *Balancer) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	c, err := b.pick()
	if err != nil {
		return bank.Statement{}, err
	}
	return c.Statement(ctx, req)
}

// Deposit implements bank.Bank on the next server.
func (b *Balancer) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	c, err := b.pick()
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	return c.Deposit(ctx, req)
}

// Close closes every client and stops following the set.
func (b *Balancer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	clients := b.clients
	b.clients = nil
	b.mu.Unlock()
	close(b.done)
	for _, c := range clients {
		c.Close()
	}
	return b.set.Close()
}
