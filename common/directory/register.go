package directory

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Registration is a server's entry in the directory, kept alive by
// heartbeat until Close.
type Registration struct {
	c        *clientv3.Client
	key      string
	addr     string
	ttl      int64
	cancel   context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	lease    clientv3.LeaseID
	renewals int // registrations after the first, when a lease was lost
}

// Register puts name/instance → addr in the directory under a lease of
// ttl (whole seconds, rounded up; etcd raises a TTL below its floor of
// about 2 s) and keeps the lease alive by heartbeat (clientv3's
// KeepAlive, every ttl/3) until Close or until ctx ends. ctx also bounds
// this first registration.
//
// A lease can be lost while the server lives: the process was paused (or
// cut off from etcd) for longer than ttl, etcd revoked the lease and
// deleted the key, and every client saw the server leave — a false
// suspicion. The registration then registers again under a new lease as
// soon as it can reach etcd, and the server rejoins the set.
func Register(ctx context.Context, c *clientv3.Client, name, instance, addr string, ttl time.Duration) (*Registration, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if instance == "" || addr == "" {
		return nil, fmt.Errorf("directory: register %s: empty instance or address", name)
	}
	secs := int64(math.Ceil(ttl.Seconds()))
	if secs < 1 {
		secs = 1
	}
	r := &Registration{c: c, key: name + "/" + instance, addr: addr, ttl: secs, done: make(chan struct{})}
	kctx, cancel := context.WithCancel(ctx)
	ka, err := r.grant(ctx, kctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("directory: register %s: %w", r.key, err)
	}
	r.cancel = cancel
	go r.keep(kctx, ka)
	return r, nil
}

// Key returns the registration's key, such as "igbank/grpc/127.0.0.1:7003".
func (r *Registration) Key() string { return r.key }

// Renewals returns how many times the registration was made again after
// its lease was lost.
func (r *Registration) Renewals() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.renewals
}

// grant takes a new lease, puts the key under it (within ctx) and starts
// its heartbeat until kctx ends; it returns the heartbeat's channel.
func (r *Registration) grant(ctx, kctx context.Context) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	g, err := r.c.Grant(ctx, r.ttl)
	if err != nil {
		return nil, err
	}
	if _, err := r.c.Put(ctx, r.key, r.addr, clientv3.WithLease(g.ID)); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.lease = g.ID
	r.mu.Unlock()
	return r.c.KeepAlive(kctx, g.ID)
}

// keep drains the heartbeat's answers and registers again whenever the
// lease is lost, until ctx ends.
func (r *Registration) keep(ctx context.Context, ka <-chan *clientv3.LeaseKeepAliveResponse) {
	defer close(r.done)
	for {
		for range ka {
		}
		if ctx.Err() != nil || r.c.Ctx().Err() != nil { // closed, or its etcd client closed
			return
		}
		slog.Warn("directory: lease lost, registering again", "key", r.key)
		pause := 100 * time.Millisecond
		for {
			gctx, cancel := context.WithTimeout(ctx, time.Duration(r.ttl)*time.Second)
			var err error
			ka, err = r.grant(gctx, ctx)
			cancel()
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, time.Second)
		}
		r.mu.Lock()
		r.renewals++
		r.mu.Unlock()
		slog.Info("directory: registered again", "key", r.key)
	}
}

// Close stops the heartbeat and revokes the lease, which deletes the key
// at once: clients stop sending calls here before the server goes away.
func (r *Registration) Close() error {
	r.cancel()
	<-r.done
	r.mu.Lock()
	lease := r.lease
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := r.c.Revoke(ctx, lease); err != nil {
		return fmt.Errorf("directory: revoke %s: %w", r.key, err)
	}
	return nil
}
