package connpool

import (
	"context"
	"sync"
	"sync/atomic"
)

// ExclusiveConfig configures an Exclusive pool of connections of type C.
type ExclusiveConfig[C any] struct {
	// Max is how many connections may exist at once, lent, idle or being
	// dialed; 0 or negative means no limit.
	Max int
	// Dial opens a connection under the context of the call that needs
	// it. Required.
	Dial func(ctx context.Context) (C, error)
	// Close closes a connection: on Discard, on Close, on a Put after
	// Close, and when a dial ends after Close. Required.
	Close func(c C)
}

// Exclusive is a pool of connections that carry one call at a time: it
// lends each call a connection of its own. Idle connections are lent
// oldest-returned first, so that all of them stay in use. It is safe for
// concurrent use.
type Exclusive[C any] struct {
	dial  func(context.Context) (C, error)
	close func(C)
	max   int

	isClosed atomic.Bool // closed, read without the lock

	mu      sync.Mutex
	idle    ring[C]
	open    int         // connections lent, idle or being dialed
	waiters []waiter[C] // calls waiting at Max, first come first served
	closed  bool
}

// A waiter is a call waiting at Max. It is granted one thing, once: a
// connection given back, room to dial one, or the news that the pool
// closed.
type waiter[C any] chan grant[C]

type grant[C any] struct {
	kind grantKind
	c    C // for grantConn
}

type grantKind uint8

const (
	grantConn grantKind = iota
	grantDial
	grantClosed
)

// NewExclusive returns an empty pool.
func NewExclusive[C any](cfg ExclusiveConfig[C]) *Exclusive[C] {
	return &Exclusive[C]{dial: cfg.Dial, close: cfg.Close, max: cfg.Max}
}

// Get lends a connection: an idle one, else a new one if fewer than Max
// exist, else the first one given back (or the room a discarded one
// leaves) within ctx. It returns ErrClosed once the pool is closed,
// ctx.Err() if ctx ends while it waits, and the dial's error if the dial
// fails. ctx matters only for waiting and dialing: an idle connection is
// lent even under an ended ctx (check ctx.Err() first if that matters).
// The caller gives the connection back with Put, or Discard.
func (p *Exclusive[C]) Get(ctx context.Context) (C, error) {
	var zero C
	if p.isClosed.Load() {
		return zero, ErrClosed
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return zero, ErrClosed
	}
	if p.idle.n > 0 {
		c := p.idle.pop()
		p.mu.Unlock()
		return c, nil
	}
	if p.max <= 0 || p.open < p.max {
		p.open++
		p.mu.Unlock()
		return p.dialNew(ctx)
	}
	w := make(waiter[C], 1)
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()

	select {
	case g := <-w:
		return p.granted(ctx, g)
	case <-ctx.Done():
	}
	p.mu.Lock()
	queued := p.removeWaiter(w)
	p.mu.Unlock()
	if !queued { // granted meanwhile: hand it on
		p.ungrant(<-w)
	}
	return zero, ctx.Err()
}

// dialNew dials into a place already counted in open.
func (p *Exclusive[C]) dialNew(ctx context.Context) (C, error) {
	var zero C
	c, err := p.dial(ctx)
	p.mu.Lock()
	if err != nil {
		p.release()
		p.mu.Unlock()
		return zero, err
	}
	if p.closed {
		p.open--
		p.mu.Unlock()
		p.close(c)
		return zero, ErrClosed
	}
	p.mu.Unlock()
	return c, nil
}

func (p *Exclusive[C]) granted(ctx context.Context, g grant[C]) (C, error) {
	switch g.kind {
	case grantConn:
		return g.c, nil
	case grantDial:
		return p.dialNew(ctx)
	}
	var zero C
	return zero, ErrClosed
}

// ungrant passes on what a waiter was granted after it gave up.
func (p *Exclusive[C]) ungrant(g grant[C]) {
	switch g.kind {
	case grantConn:
		p.Put(g.c)
	case grantDial:
		p.mu.Lock()
		p.release()
		p.mu.Unlock()
	}
}

// release frees the place of a connection that is gone, or hands it to
// the first waiter to dial into. p.mu is held.
func (p *Exclusive[C]) release() {
	p.open--
	if w, ok := p.popWaiter(); ok {
		p.open++
		w <- grant[C]{kind: grantDial}
	}
}

// popWaiter dequeues the first waiter, if any. p.mu is held.
func (p *Exclusive[C]) popWaiter() (waiter[C], bool) {
	if len(p.waiters) == 0 {
		return nil, false
	}
	w := p.waiters[0]
	n := copy(p.waiters, p.waiters[1:])
	p.waiters[n] = nil
	p.waiters = p.waiters[:n]
	return w, true
}

// removeWaiter dequeues w and tells whether it was still queued. p.mu is
// held.
func (p *Exclusive[C]) removeWaiter(w waiter[C]) bool {
	for i, x := range p.waiters {
		if x == w {
			n := copy(p.waiters[i:], p.waiters[i+1:])
			p.waiters[i+n] = nil
			p.waiters = p.waiters[:i+n]
			return true
		}
	}
	return false
}

// Closed tells whether Close has been called.
func (p *Exclusive[C]) Closed() bool { return p.isClosed.Load() }

// Put gives back a connection Get lent, fit for another call: to the
// first waiting call, else to the idle ones. After Close, Put closes it.
func (p *Exclusive[C]) Put(c C) {
	p.mu.Lock()
	if p.closed {
		p.open--
		p.mu.Unlock()
		p.close(c)
		return
	}
	if w, ok := p.popWaiter(); ok {
		w <- grant[C]{kind: grantConn, c: c}
		p.mu.Unlock()
		return
	}
	p.idle.push(c)
	p.mu.Unlock()
}

// Discard closes a connection Get lent, one unfit for another call, and
// frees its place.
func (p *Exclusive[C]) Discard(c C) {
	p.close(c)
	p.mu.Lock()
	p.release()
	p.mu.Unlock()
}

// Close closes the idle connections now, and each lent one when it is
// given back (Put or Discard). Waiting calls and later ones return
// ErrClosed. Close is idempotent.
func (p *Exclusive[C]) Close() {
	p.isClosed.Store(true)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	var idle []C
	for p.idle.n > 0 {
		idle = append(idle, p.idle.pop())
	}
	p.open -= len(idle)
	for _, w := range p.waiters {
		w <- grant[C]{kind: grantClosed}
	}
	p.waiters = nil
	p.mu.Unlock()
	for _, c := range idle {
		p.close(c)
	}
}

// ring is a FIFO queue; it grows as needed and never shrinks.
type ring[C any] struct {
	buf     []C
	head, n int
}

func (r *ring[C]) push(c C) {
	if r.n == len(r.buf) {
		buf := make([]C, max(2*len(r.buf), 8))
		for i := range r.n {
			buf[i] = r.at(i)
		}
		r.buf, r.head = buf, 0
	}
	r.buf[r.index(r.n)] = c
	r.n++
}

func (r *ring[C]) pop() C {
	var zero C
	c := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = r.index(1)
	r.n--
	return c
}

func (r *ring[C]) at(i int) C { return r.buf[r.index(i)] }

// index is the position in buf of the i-th element, 0 <= i <= len(buf).
func (r *ring[C]) index(i int) int {
	i += r.head
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	return i
}
