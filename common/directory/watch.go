package directory

import (
	"context"
	"slices"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Set is the set of addresses registered under a logical name, kept
// current by an etcd watch until Close. It is a transport.Addrs, safe for
// concurrent use.
type Set struct {
	c      *clientv3.Client
	prefix string
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	byKey   map[string]string
	addrs   []string
	changed chan struct{}
}

// Watch reads the addresses registered under name (every key name/...)
// and follows their changes from the revision it read at: a key put adds
// its address, a key deleted or expired with its lease removes it. ctx
// bounds the first read; the set follows changes until Close. If the
// watch is cut (etcd unreachable, history compacted), the set keeps its
// last addresses and reads them again once etcd answers.
func Watch(ctx context.Context, c *clientv3.Client, name string) (*Set, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	s := &Set{c: c, prefix: name + "/", done: make(chan struct{}), changed: make(chan struct{})}
	rev, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.follow(wctx, rev)
	return s, nil
}

// load reads every key of the set and returns the revision it read at.
func (s *Set) load(ctx context.Context) (int64, error) {
	resp, err := s.c.Get(ctx, s.prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, err
	}
	byKey := make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		byKey[string(kv.Key)] = string(kv.Value)
	}
	s.mu.Lock()
	s.byKey = byKey
	s.update()
	s.mu.Unlock()
	return resp.Header.Revision, nil
}

// follow applies the watch's events from rev+1 on until ctx ends.
func (s *Set) follow(ctx context.Context, rev int64) {
	defer close(s.done)
	for ctx.Err() == nil {
		// WithRequireLeader: a member cut off from its cluster ends the
		// watch rather than leaving it silent.
		w := s.c.Watch(clientv3.WithRequireLeader(ctx), s.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for resp := range w {
			if resp.Err() != nil {
				break
			}
			s.mu.Lock()
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypeDelete {
					delete(s.byKey, string(ev.Kv.Key))
				} else {
					s.byKey[string(ev.Kv.Key)] = string(ev.Kv.Value)
				}
			}
			s.update()
			s.mu.Unlock()
			rev = resp.Header.Revision
		}
		// The watch ended: read the set again and watch from there.
		for ctx.Err() == nil {
			lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			r, err := s.load(lctx)
			cancel()
			if err == nil {
				rev = r
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// update recomputes the sorted addresses and, if they changed, wakes the
// waiters of Changed. s.mu is held.
func (s *Set) update() {
	addrs := make([]string, 0, len(s.byKey))
	for _, a := range s.byKey {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	if slices.Equal(addrs, s.addrs) && s.addrs != nil {
		return
	}
	s.addrs = addrs
	close(s.changed)
	s.changed = make(chan struct{})
}

// Addrs returns the addresses registered now, sorted, without repeats.
func (s *Set) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.addrs)
}

// Changed returns a channel closed at the set's next change, or at Close.
func (s *Set) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Close stops following the set; its addresses stay as they were.
func (s *Set) Close() error {
	s.cancel()
	<-s.done
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return nil
}
