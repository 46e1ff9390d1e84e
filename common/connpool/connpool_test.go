package connpool

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeConn is a connection that counts its closes.
type fakeConn struct {
	id     int
	closes atomic.Int32
	broken atomic.Bool
}

// dialer makes fakeConns and counts its dials; gate, if set, holds each
// dial until it is closed or sent a value, and fail, if set, makes dials
// fail.
type dialer struct {
	mu    sync.Mutex
	dials int
	conns []*fakeConn
	gate  chan struct{}
	fail  error
}

func (d *dialer) dial(ctx context.Context) (*fakeConn, error) {
	d.mu.Lock()
	d.dials++
	gate, fail := d.gate, d.fail
	d.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		return nil, fail
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := &fakeConn{id: len(d.conns) + 1}
	d.conns = append(d.conns, c)
	return c, nil
}

func (d *dialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dials
}

func closeConn(c *fakeConn) { c.closes.Add(1) }

func newShared(d *dialer, size int) *Shared[fakeConn] {
	return NewShared(SharedConfig[fakeConn]{
		Size:   size,
		Dial:   d.dial,
		Close:  closeConn,
		Broken: func(c *fakeConn) bool { return c.broken.Load() },
	})
}

func newExclusive(d *dialer, max int) *Exclusive[*fakeConn] {
	return NewExclusive(ExclusiveConfig[*fakeConn]{Max: max, Dial: d.dial, Close: closeConn})
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSharedSingleFlightDial(t *testing.T) {
	d := &dialer{gate: make(chan struct{})}
	p := newShared(d, 1)
	const n = 50
	got := make([]*fakeConn, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := p.Next().Get(context.Background())
			if err != nil {
				t.Error(err)
			}
			got[i] = c
		})
	}
	waitFor(t, "the dial", func() bool { return d.count() == 1 })
	time.Sleep(10 * time.Millisecond) // let the others queue up behind it
	close(d.gate)
	wg.Wait()
	if d.count() != 1 {
		t.Fatalf("%d dials for %d concurrent callers, want 1", d.count(), n)
	}
	for i, c := range got {
		if c != got[0] || c == nil {
			t.Fatalf("caller %d got %v, caller 0 %v", i, c, got[0])
		}
	}
}

func TestSharedWaiterHonoursContext(t *testing.T) {
	d := &dialer{gate: make(chan struct{})}
	p := newShared(d, 1)
	s := p.Slot(0)
	dialed := make(chan error, 1)
	go func() {
		_, err := s.Get(context.Background())
		dialed <- err
	}()
	waitFor(t, "the dial", func() bool { return d.count() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter got %v, want its deadline", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("the waiter returned after %v", el)
	}
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := s.Get(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled waiter got %v", err)
	}
	close(d.gate)
	if err := <-dialed; err != nil {
		t.Fatal(err)
	}
	if d.count() != 1 {
		t.Fatalf("%d dials, want 1", d.count())
	}
}

func TestSharedDialErrorGoesToWaiters(t *testing.T) {
	boom := errors.New("connection refused")
	d := &dialer{gate: make(chan struct{}), fail: boom}
	p := newShared(d, 1)
	s := p.Slot(0)
	const n = 10
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := s.Get(context.Background())
			errs <- err
		}()
	}
	waitFor(t, "the dial", func() bool { return d.count() == 1 })
	time.Sleep(10 * time.Millisecond)
	close(d.gate)
	for range n {
		if err := <-errs; err != boom {
			t.Fatalf("got %v, want the dial's error", err)
		}
	}
	if d.count() != 1 {
		t.Fatalf("%d dials, want 1", d.count())
	}

	d.mu.Lock()
	d.fail = nil
	d.mu.Unlock()
	c, err := s.Get(context.Background())
	if err != nil || c == nil {
		t.Fatalf("after a failed dial: %v, %v", c, err)
	}
	if d.count() != 2 {
		t.Fatalf("%d dials, want 2: a failed dial leaves the slot empty", d.count())
	}
}

// A dial that ends because its caller's context ended does not fail the
// waiters, whose contexts are still alive: one of them dials.
func TestSharedDialerContextEndsWaiterDials(t *testing.T) {
	d := &dialer{gate: make(chan struct{})}
	p := newShared(d, 1)
	s := p.Slot(0)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := s.Get(ctx)
		first <- err
	}()
	waitFor(t, "the first dial", func() bool { return d.count() == 1 })
	second := make(chan *fakeConn, 1)
	go func() {
		c, err := s.Get(context.Background())
		if err != nil {
			t.Error(err)
		}
		second <- c
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the dialer got %v", err)
	}
	waitFor(t, "the waiter's own dial", func() bool { return d.count() == 2 })
	close(d.gate)
	if c := <-second; c == nil {
		t.Fatal("the waiter got no connection")
	}
}

func TestSharedDropRedials(t *testing.T) {
	d := &dialer{}
	p := newShared(d, 1)
	s := p.Slot(0)
	ctx := context.Background()
	c1, _ := s.Get(ctx)
	if c, _ := s.Get(ctx); c != c1 || d.count() != 1 {
		t.Fatalf("second Get: %v (first %v), %d dials", c, c1, d.count())
	}
	s.Drop(c1)
	if c1.closes.Load() != 1 {
		t.Fatalf("dropped connection closed %d times", c1.closes.Load())
	}
	c2, _ := s.Get(ctx)
	if c2 == c1 || d.count() != 2 {
		t.Fatalf("after Drop: %v (dropped %v), %d dials", c2, c1, d.count())
	}
	s.Drop(c1) // stale: c2 stays
	if c, _ := s.Get(ctx); c != c2 || d.count() != 2 {
		t.Fatalf("a stale Drop replaced the connection: %v, %d dials", c, d.count())
	}
}

func TestSharedBrokenRedials(t *testing.T) {
	d := &dialer{}
	p := newShared(d, 1)
	s := p.Slot(0)
	ctx := context.Background()
	c1, _ := s.Get(ctx)
	c1.broken.Store(true)
	c2, err := s.Get(ctx)
	if err != nil || c2 == c1 || d.count() != 2 {
		t.Fatalf("after breaking: %v (broken %v), %v, %d dials", c2, c1, err, d.count())
	}
	if c1.closes.Load() != 0 {
		t.Fatal("the pool closed a broken connection")
	}
	if c, _ := s.Get(ctx); c != c2 {
		t.Fatalf("got %v, want %v", c, c2)
	}
}

func TestSharedRoundRobin(t *testing.T) {
	d := &dialer{}
	p := newShared(d, 3)
	if p.Len() != 3 {
		t.Fatalf("Len %d", p.Len())
	}
	seen := map[*fakeConn]int{}
	for range 9 {
		c, err := p.Next().Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		seen[c]++
	}
	if len(seen) != 3 || d.count() != 3 {
		t.Fatalf("%d connections, %d dials over 3 slots", len(seen), d.count())
	}
	for c, n := range seen {
		if n != 3 {
			t.Fatalf("connection %d used %d times of 9", c.id, n)
		}
	}
	if q := NewShared(SharedConfig[fakeConn]{Size: 0}); q.Len() != 1 {
		t.Fatalf("Size 0: %d slots", q.Len())
	}
}

func TestSharedClose(t *testing.T) {
	d := &dialer{}
	p := newShared(d, 2)
	ctx := context.Background()
	c0, _ := p.Slot(0).Get(ctx)

	// A dial in progress when Close runs closes its connection.
	d.mu.Lock()
	d.gate = make(chan struct{})
	d.mu.Unlock()
	late := make(chan error, 1)
	go func() {
		_, err := p.Slot(1).Get(ctx)
		late <- err
	}()
	waitFor(t, "the second dial", func() bool { return d.count() == 2 })

	if p.Closed() {
		t.Fatal("Closed before Close")
	}
	p.Close()
	if !p.Closed() {
		t.Fatal("not Closed after Close")
	}
	if c0.closes.Load() != 1 {
		t.Fatalf("Close closed the connection %d times", c0.closes.Load())
	}
	if _, err := p.Slot(0).Get(ctx); err != ErrClosed {
		t.Fatalf("Get after Close: %v", err)
	}
	close(d.gate)
	if err := <-late; err != ErrClosed {
		t.Fatalf("a dial ending after Close: %v", err)
	}
	d.mu.Lock()
	c1 := d.conns[1]
	d.mu.Unlock()
	if c1.closes.Load() != 1 {
		t.Fatalf("the late connection was closed %d times", c1.closes.Load())
	}
	p.Close()
	if c0.closes.Load() != 1 {
		t.Fatal("a second Close closed again")
	}
}

func TestSharedGetAllocs(t *testing.T) {
	p := newShared(&dialer{}, 4)
	ctx := context.Background()
	for i := range p.Len() {
		p.Slot(i).Get(ctx)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := p.Next().Get(ctx); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Get of a dialed connection: %v allocations", n)
	}
}

func TestExclusiveMaxUnderConcurrency(t *testing.T) {
	const max, callers, calls = 3, 20, 50
	d := &dialer{}
	p := newExclusive(d, max)
	var lent, peak atomic.Int32
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range calls {
				c, err := p.Get(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n := lent.Add(1); n > peak.Load() {
					peak.Store(n) // racy max, but never above the truth
				}
				if n := lent.Load(); n > max {
					t.Errorf("%d connections lent at once, max %d", n, max)
				}
				time.Sleep(50 * time.Microsecond)
				lent.Add(-1)
				p.Put(c)
			}
		})
	}
	wg.Wait()
	if d.count() > max {
		t.Fatalf("%d dials, max %d", d.count(), max)
	}
	t.Logf("%d dials, peak %d lent", d.count(), peak.Load())
}

func TestExclusiveWaitsForPut(t *testing.T) {
	d := &dialer{}
	p := newExclusive(d, 1)
	ctx := context.Background()
	c, _ := p.Get(ctx)
	got := make(chan *fakeConn, 1)
	go func() {
		c, err := p.Get(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	select {
	case <-got:
		t.Fatal("a second connection lent past Max 1")
	case <-time.After(20 * time.Millisecond):
	}
	p.Put(c)
	if c2 := <-got; c2 != c || d.count() != 1 {
		t.Fatalf("the waiter got %v (put back %v), %d dials", c2, c, d.count())
	}
}

func TestExclusiveWaitHonoursContext(t *testing.T) {
	d := &dialer{}
	p := newExclusive(d, 1)
	c, _ := p.Get(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past its deadline: %v", err)
	}
	if _, err := p.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting with an ended context: %v", err)
	}
	p.Put(c)
	// An idle connection is lent whatever the context.
	if c2, err := p.Get(ctx); c2 != c || err != nil || d.count() != 1 {
		t.Fatalf("after Put: %v (put %v), %v, %d dials", c2, c, err, d.count())
	}
}

func TestExclusiveDiscardFreesPlace(t *testing.T) {
	d := &dialer{}
	p := newExclusive(d, 1)
	ctx := context.Background()
	c, _ := p.Get(ctx)
	got := make(chan *fakeConn, 1)
	go func() {
		c, err := p.Get(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	time.Sleep(10 * time.Millisecond)
	p.Discard(c)
	if c.closes.Load() != 1 {
		t.Fatalf("discarded connection closed %d times", c.closes.Load())
	}
	if c2 := <-got; c2 == c || c2 == nil || d.count() != 2 {
		t.Fatalf("the waiter got %v (discarded %v), %d dials", c2, c, d.count())
	}
}

func TestExclusiveDialErrorFreesPlace(t *testing.T) {
	boom := errors.New("connection refused")
	d := &dialer{fail: boom}
	p := newExclusive(d, 1)
	ctx := context.Background()
	if _, err := p.Get(ctx); err != boom {
		t.Fatalf("got %v, want the dial's error", err)
	}
	d.mu.Lock()
	d.fail = nil
	d.mu.Unlock()
	if c, err := p.Get(ctx); c == nil || err != nil || d.count() != 2 {
		t.Fatalf("after a failed dial: %v, %v, %d dials", c, err, d.count())
	}
}

func TestExclusiveFIFO(t *testing.T) {
	p := newExclusive(&dialer{}, 0)
	ctx := context.Background()
	var cs []*fakeConn
	for range 20 {
		c, _ := p.Get(ctx)
		cs = append(cs, c)
	}
	for _, c := range cs {
		p.Put(c)
	}
	for i := range cs {
		if c, _ := p.Get(ctx); c != cs[i] {
			t.Fatalf("Get %d: connection %d, want %d (first given back, first lent)", i, c.id, cs[i].id)
		}
		p.Put(cs[i])
	}
}

func TestExclusiveClose(t *testing.T) {
	d := &dialer{}
	p := newExclusive(d, 2)
	ctx := context.Background()
	lent, _ := p.Get(ctx)
	idle, _ := p.Get(ctx)
	p.Put(idle)
	p.Get(ctx) // takes idle again
	p.Put(idle)

	lent2, _ := p.Get(ctx) // idle, lent again; the pool is at Max
	waiter := make(chan error, 1)
	go func() {
		_, err := p.Get(ctx)
		waiter <- err
	}()
	time.Sleep(10 * time.Millisecond)
	p.Put(lent2) // goes to the waiter... who then holds it
	if err := <-waiter; err != nil {
		t.Fatal(err)
	}
	// Now lent and lent2 are both lent; one more waits.
	go func() {
		_, err := p.Get(ctx)
		waiter <- err
	}()
	time.Sleep(10 * time.Millisecond)

	if p.Closed() {
		t.Fatal("Closed before Close")
	}
	p.Close()
	if !p.Closed() {
		t.Fatal("not Closed after Close")
	}
	if err := <-waiter; err != ErrClosed {
		t.Fatalf("a waiting call at Close: %v", err)
	}
	if _, err := p.Get(ctx); err != ErrClosed {
		t.Fatalf("Get after Close: %v", err)
	}
	if lent.closes.Load() != 0 || lent2.closes.Load() != 0 {
		t.Fatal("Close closed a lent connection")
	}
	p.Put(lent)
	p.Discard(lent2)
	if lent.closes.Load() != 1 || lent2.closes.Load() != 1 {
		t.Fatalf("given back after Close: closed %d and %d times", lent.closes.Load(), lent2.closes.Load())
	}
	p.Close()

	// Idle connections are closed at Close.
	q := newExclusive(&dialer{}, 0)
	a, _ := q.Get(ctx)
	b, _ := q.Get(ctx)
	q.Put(a)
	q.Close()
	if a.closes.Load() != 1 || b.closes.Load() != 0 {
		t.Fatalf("Close closed the idle one %d times, the lent one %d", a.closes.Load(), b.closes.Load())
	}
	q.Put(b)
	if b.closes.Load() != 1 {
		t.Fatal("a connection put back after Close stayed open")
	}

	// A dial ending after Close closes its connection.
	gd := &dialer{gate: make(chan struct{})}
	r := newExclusive(gd, 1)
	late := make(chan error, 1)
	go func() {
		_, err := r.Get(ctx)
		late <- err
	}()
	waitFor(t, "the dial", func() bool { return gd.count() == 1 })
	r.Close()
	close(gd.gate)
	if err := <-late; err != ErrClosed {
		t.Fatalf("a dial ending after Close: %v", err)
	}
	if c := gd.conns[0]; c.closes.Load() != 1 {
		t.Fatalf("its connection was closed %d times", c.closes.Load())
	}
}

func TestExclusiveUnbounded(t *testing.T) {
	const n = 50
	d := &dialer{}
	p := newExclusive(d, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cs := make([]*fakeConn, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := p.Get(ctx)
			if err != nil {
				t.Error(err)
			}
			cs[i] = c
		})
	}
	wg.Wait()
	if d.count() != n {
		t.Fatalf("%d dials for %d calls holding their connections", d.count(), n)
	}
	for _, c := range cs {
		p.Put(c)
	}
	p.Close()
	for _, c := range cs {
		if c.closes.Load() != 1 {
			t.Fatalf("connection %d closed %d times", c.id, c.closes.Load())
		}
	}
}

// Many calls get, put back, discard and give up at random; in the end,
// with everything given back and the pool closed, every connection dialed
// was closed exactly once and no place is left counted.
func TestExclusiveStress(t *testing.T) {
	d := &dialer{}
	p := newExclusive(d, 4)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 300 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(200))*time.Microsecond)
				c, err := p.Get(ctx)
				cancel()
				if err != nil {
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Error(err)
					}
					continue
				}
				if c.closes.Load() != 0 {
					t.Errorf("lent closed connection %d", c.id)
				}
				runtime.Gosched()
				if rng.IntN(5) == 0 {
					p.Discard(c)
				} else {
					p.Put(c)
				}
			}
		})
	}
	wg.Wait()
	p.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		if c.closes.Load() != 1 {
			t.Fatalf("connection %d closed %d times", c.id, c.closes.Load())
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open != 0 || len(p.waiters) != 0 {
		t.Fatalf("after Close: %d open, %d waiters", p.open, len(p.waiters))
	}
	t.Logf("%d dials", len(d.conns))
}

func TestExclusiveGetPutAllocs(t *testing.T) {
	for _, max := range []int{0, 4} {
		p := newExclusive(&dialer{}, max)
		ctx := context.Background()
		c, _ := p.Get(ctx)
		p.Put(c)
		if n := testing.AllocsPerRun(1000, func() {
			c, err := p.Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			p.Put(c)
		}); n != 0 {
			t.Fatalf("Max %d: Get and Put of an idle connection: %v allocations", max, n)
		}
	}
}
