package connpool

import (
	"context"
	"sync"
	"sync/atomic"
)

// SharedConfig configures a Shared pool of connections of type *T.
type SharedConfig[T any] struct {
	// Size is the number of slots, hence of connections (at least 1).
	Size int
	// Dial opens a connection under the context of the call that needs
	// it. Required.
	Dial func(ctx context.Context) (*T, error)
	// Close closes a connection: on Drop, on Close, and when a dial ends
	// after Close. Required.
	Close func(c *T)
	// Broken, if set, tells whether a connection is dead, so that the next
	// Get of its slot dials a new one instead of returning it. A broken
	// connection is expected to have closed itself; the pool forgets it
	// without calling Close. Nil: a connection is replaced only when
	// dropped.
	Broken func(c *T) bool
}

// Shared is a pool of multiplexed connections: a fixed number of slots,
// each holding one connection that many calls share. It is safe for
// concurrent use.
type Shared[T any] struct {
	dial   func(context.Context) (*T, error)
	close  func(*T)
	broken func(*T) bool
	slots  []Slot[T]
	next   atomic.Uint32
	closed atomic.Bool
}

// Slot is one slot of a Shared pool: at most one connection, dialed when
// needed by one caller at a time.
type Slot[T any] struct {
	p   *Shared[T]
	cur atomic.Pointer[T] // the connection; nil until dialed, after a drop, after Close

	mu      sync.Mutex  // guards dialing, and cur against Close
	dialing *dialing[T] // the dial in progress, if any
}

// dialing is one dial in progress; those who wait for it learn its error.
type dialing[T any] struct {
	done chan struct{} // closed when the dial has ended
	err  error         // the dial's error, set before done is closed
}

// NewShared returns a pool of cfg.Size slots (at least one), none of them
// dialed yet.
func NewShared[T any](cfg SharedConfig[T]) *Shared[T] {
	p := &Shared[T]{dial: cfg.Dial, close: cfg.Close, broken: cfg.Broken}
	p.slots = make([]Slot[T], max(cfg.Size, 1))
	for i := range p.slots {
		p.slots[i].p = p
	}
	return p
}

// Len returns the number of slots.
func (p *Shared[T]) Len() int { return len(p.slots) }

// Slot returns slot i, 0 <= i < Len().
func (p *Shared[T]) Slot(i int) *Slot[T] { return &p.slots[i] }

// Next returns the next slot round robin. A caller that retries on a
// fresh connection keeps the slot it picked and calls its Get again.
func (p *Shared[T]) Next() *Slot[T] {
	if len(p.slots) == 1 {
		return &p.slots[0]
	}
	return &p.slots[int(p.next.Add(1))%len(p.slots)]
}

// Get returns the slot's connection, dialing it if the slot has none (or
// only a broken one). One caller dials at a time; the others wait for that
// dial or for their own ctx (then they return ctx.Err()). If the dial
// fails, Get returns its error to the caller that dialed and to those who
// waited, unless it is a context error: then it was the dialing caller's
// context that ended, and each waiter looks again and may dial itself. A
// failed dial leaves the slot empty, so the next Get dials again.
//
// Get returns ErrClosed once the pool is closed. Like Exclusive.Get, it
// looks at ctx only to wait or dial. A connection it returned
// may break or be closed at any time; the caller drops it (Drop) when it
// finds it so, unless Broken tells the pool already.
func (s *Slot[T]) Get(ctx context.Context) (*T, error) {
	p := s.p
	for {
		if p.closed.Load() {
			return nil, ErrClosed
		}
		if c := s.cur.Load(); c != nil && (p.broken == nil || !p.broken(c)) {
			return c, nil
		}
		s.mu.Lock()
		if p.closed.Load() {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		if c := s.cur.Load(); c != nil && (p.broken == nil || !p.broken(c)) {
			s.mu.Unlock()
			return c, nil
		}
		if d := s.dialing; d != nil {
			s.mu.Unlock()
			select {
			case <-d.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if d.err != nil && !isContextError(d.err) {
				return nil, d.err
			}
			continue // dialed, or the dialer's context ended (ours may not have)
		}
		d := &dialing[T]{done: make(chan struct{})}
		s.dialing = d
		s.cur.Store(nil) // a broken connection is forgotten, not closed
		s.mu.Unlock()

		c, err := p.dial(ctx)
		s.mu.Lock()
		s.dialing = nil
		d.err = err
		if err == nil {
			if p.closed.Load() { // Close ran while we dialed
				p.close(c)
				c, err = nil, ErrClosed
			} else {
				s.cur.Store(c)
			}
		}
		s.mu.Unlock()
		close(d.done)
		return c, err
	}
}

// Drop forgets c if it is still the slot's connection, so that the next
// Get dials a new one, and closes c.
func (s *Slot[T]) Drop(c *T) {
	s.cur.CompareAndSwap(c, nil)
	s.p.close(c)
}

// Closed tells whether Close has been called.
func (p *Shared[T]) Closed() bool { return p.closed.Load() }

// Close closes every slot's connection. Later calls of Get return
// ErrClosed, and a dial in progress closes its connection when it ends.
// Callers still using a connection they got find it closed. Close is
// idempotent.
func (p *Shared[T]) Close() {
	p.closed.Store(true)
	for i := range p.slots {
		s := &p.slots[i]
		s.mu.Lock()
		if c := s.cur.Swap(nil); c != nil {
			p.close(c)
		}
		s.mu.Unlock()
	}
}
