package netem

import (
	"errors"
	"github.com/igbank/igbank/common/pace"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"
)

const (
	// minQueue and maxQueue bound a connection's write queue, which is the
	// bandwidth-delay product otherwise: the bytes in flight.
	minQueue = 1 << 20
	maxQueue = 4 << 20
	// maxChunk is the most a paced chunk carries, so that a large write
	// arrives as a stream, as it would over a link, not all at its end.
	maxChunk = 16 << 10
	// keepQueue is the most queue memory an idle connection keeps for its
	// next writes, enough for most replies; a larger buffer is dropped when
	// the queue empties, so that idle connections stay small.
	keepQueue = 16 << 10
	// closeLinger is the longest Close lets the queue drain.
	closeLinger = 10 * time.Second
	// minReadSleep is the least upstream pacing sleeps: a smaller debt is
	// carried to the next read, so that small requests cost no timer.
	minReadSleep = 500 * time.Microsecond
	// readSlack is how late a read may come after the upstream link fell
	// free and still count as back to back: a sleep that overslept must
	// not slow the link down.
	readSlack = 2 * time.Millisecond
)

// aLongTimeAgo is a read deadline that makes blocked reads return now.
var aLongTimeAgo = time.Unix(1, 0)

// Listener returns l with every connection it accepts wrapped as Conn
// wraps one, or l itself when p emulates nothing. The connections share
// one link each way, as the connections between two machines share
// their network: p's bandwidth is the link's, not each connection's, so a
// transport that opens many connections gets no more of it than one that
// multiplexes one.
func (p Profile) Listener(l net.Listener) net.Listener {
	if !p.Emulated() {
		return l
	}
	return &listener{Listener: l, p: p, up: new(link), down: new(link)}
}

type listener struct {
	net.Listener
	p        Profile
	up, down *link
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.p.conn(c, l.up, l.down), nil
}

// link is one direction of the emulated network: when it is next free.
// The connections of a listener share theirs.
type link struct {
	mu   sync.Mutex
	free time.Time
}

// send reserves the link for n bytes at bw from now or from when it falls
// free, whichever is later, and returns when their transmission ends.
// If idle reports whether the link counts as idle since it fell free
// (a read that comes a little late still follows the bytes ahead of it).
func (l *link) send(now time.Time, n int, bw Bandwidth, idle func(freeFor time.Duration) bool) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.free
	if now.After(start) && (idle == nil || idle(now.Sub(start))) {
		start = now
	}
	l.free = start.Add(transmission(n, bw))
	return l.free
}

// Conn returns the server's side of c under p (see the package doc), or
// c itself when p emulates nothing; c has a link of its own each way. The
// returned Conn has a CloseWrite, which half-closes c once the queue has
// drained, and returns errors.ErrUnsupported where c has none.
func (p Profile) Conn(c net.Conn) net.Conn {
	if !p.Emulated() {
		return c
	}
	return p.conn(c, new(link), new(link))
}

func (p Profile) conn(c net.Conn, up, down *link) net.Conn {
	bdp := float64(p.Down) / 8 * p.RTT().Seconds()
	return &conn{Conn: c, p: p, up: up, down: down, limit: int(min(max(bdp, minQueue), maxQueue))}
}

// chunk is one paced piece of the queue.
type chunk struct {
	due time.Time // when it reaches the client
	n   int
}

// conn is the server's side of a connection under a profile. Idle, it
// holds no buffer and runs no goroutine: the flusher starts with the
// first Write.
type conn struct {
	net.Conn
	p     Profile
	limit int // the queue's bound in bytes

	up, down *link // the links each way, shared by a listener's connections

	wmu sync.Mutex // one Write at a time, whole, as on a socket

	mu       sync.Mutex
	buf      []byte  // buf[head:] is queued, from the first byte of chunks[first]
	head     int     // advanced by the flusher alone, after its write
	chunks   []chunk // chunks[first:] is the queue, with what the flusher is writing
	first    int
	writing  bool          // the flusher is writing from buf, which must stay put
	lastDue  time.Time     // the last chunk's due time, the least of the next
	deadline time.Time     // the write deadline
	waiting  chan struct{} // closed when a blocked Write should look again
	wake     chan struct{} // wakes the flusher; made when it starts
	running  bool          // the flusher runs, and will close or half-close c
	closed   bool
	halfDone bool      // CloseWrite was called
	closeBy  time.Time // after Close, the end of delivery
	err      error     // the failed write to c, returned by later Writes
}

// Write queues a copy of b, each chunk due at the client one round trip
// after its transmission ends, and returns; it waits only for room in
// the queue, until the write deadline.
func (c *conn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for {
		if err := c.writable(); err != nil {
			return n, err
		}
		if len(b) == 0 {
			return n, nil
		}
		room := c.limit - (len(c.buf) - c.head)
		if room <= 0 {
			c.wait()
			continue
		}
		m := min(room, len(b))
		c.enqueue(b[:m])
		b, n = b[m:], n+m
	}
}

// writable returns why nothing can be queued now, if anything.
func (c *conn) writable() error {
	switch {
	case c.closed || c.halfDone:
		return c.opError("write", net.ErrClosed)
	case c.err != nil:
		return c.err
	case !c.deadline.IsZero() && !time.Now().Before(c.deadline):
		return c.opError("write", os.ErrDeadlineExceeded)
	}
	return nil
}

// wait unlocks c.mu until the flusher frees room, the deadline passes or
// anything else a blocked Write must see changes.
func (c *conn) wait() {
	if c.waiting == nil {
		c.waiting = make(chan struct{})
	}
	ch, deadline := c.waiting, c.deadline
	c.mu.Unlock()
	defer c.mu.Lock()
	if deadline.IsZero() {
		<-ch
		return
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

// changed wakes the blocked Writes.
func (c *conn) changed() {
	if c.waiting != nil {
		close(c.waiting)
		c.waiting = nil
	}
}

// enqueue stamps b's chunks with their due times and appends them.
func (c *conn) enqueue(b []byte) {
	if len(c.buf)+len(b) > cap(c.buf) {
		live := c.buf[c.head:]
		if !c.writing && len(live)+len(b) <= cap(c.buf) {
			c.buf = c.buf[:copy(c.buf, live)]
		} else {
			// Into a new array: the flusher may be writing from the old.
			nb := make([]byte, len(live), max(len(live)+len(b), 2*len(live), 512))
			c.buf = nb[:copy(nb, live)]
		}
		c.head = 0
	}
	c.buf = append(c.buf, b...)
	if c.first == len(c.chunks) {
		c.startFlusher()
	}
	if len(c.chunks) == cap(c.chunks) && c.first > 0 {
		c.chunks, c.first = c.chunks[:copy(c.chunks, c.chunks[c.first:])], 0
	}
	now := time.Now()
	for len(b) > 0 {
		n := len(b)
		end := now
		if c.p.Down > 0 {
			n = min(n, chunkSize(c.p.Down))
			end = c.down.send(now, n, c.p.Down, nil)
		}
		due := end.Add(c.delay())
		if due.Before(c.lastDue) {
			due = c.lastDue // no reordering
		}
		c.lastDue = due
		c.chunks = append(c.chunks, chunk{due, n})
		b = b[n:]
	}
}

// delay is the round trip a chunk takes: the latency and a jitter each
// way, never negative.
func (c *conn) delay() time.Duration {
	d := c.p.RTT()
	if j := int64(c.p.Jitter); j > 0 {
		d += time.Duration(rand.Int64N(2*j+1) - j + rand.Int64N(2*j+1) - j)
	}
	return max(d, 0)
}

// chunkSize is the most a chunk carries at bw: about 10 ms of
// transmission, at most maxChunk.
func chunkSize(bw Bandwidth) int {
	return int(min(max(int64(bw)/8/100, 1), maxChunk))
}

// transmission is how long n bytes take at bw.
func transmission(n int, bw Bandwidth) time.Duration {
	return time.Duration(int64(n) * 8 * int64(time.Second) / int64(bw))
}

// startFlusher starts the flusher, or wakes it, for a queue that was
// empty.
func (c *conn) startFlusher() {
	if !c.running {
		if c.wake == nil {
			c.wake = make(chan struct{}, 1)
		}
		c.running = true
		go c.flush()
		return
	}
	c.poke()
}

// poke wakes the flusher if it waits.
func (c *conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// flush writes every chunk to the socket when it is due, as one write
// with the chunks due by then. It ends when the queue is empty and c
// closed or half-closed (and does that to the socket), or a write failed.
func (c *conn) flush() {
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		c.mu.Lock()
		for c.first == len(c.chunks) {
			if c.closed || c.halfDone || c.err != nil {
				c.running = false
				closed, half := c.closed, c.halfDone
				c.mu.Unlock()
				if closed {
					c.Conn.Close()
				} else if half {
					c.Conn.(closeWriter).CloseWrite()
				}
				return
			}
			c.mu.Unlock()
			<-c.wake
			c.mu.Lock()
		}
		due := c.chunks[c.first].due
		if c.closed && due.After(c.closeBy) {
			c.drop() // undeliverable before Close's end
			c.mu.Unlock()
			continue
		}
		c.mu.Unlock()

		// A timer for all but the last stretch, which pace sleeps
		// punctually: Go's timers can wake a millisecond late, a quarter
		// of a LAN's round trip.
		if d := time.Until(pace.Coarse(due)); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-c.wake: // closed: look again
				t.Stop()
				continue
			}
		}
		pace.Until(due)

		c.mu.Lock()
		now := time.Now()
		k, n := 0, 0 // chunks and bytes due
		for _, ch := range c.chunks[c.first:] {
			if ch.due.After(now) {
				break
			}
			k, n = k+1, n+ch.n
		}
		b := c.buf[c.head : c.head+n]
		c.writing = true
		c.mu.Unlock()

		_, err := c.Conn.Write(b)

		c.mu.Lock()
		c.writing = false
		switch {
		case err != nil:
			c.err = err
			c.drop()
		case c.first+k == len(c.chunks):
			c.drop()
		default:
			// Relative to first and head: Write may have moved both.
			c.first += k
			c.head += n
		}
		c.changed()
		c.mu.Unlock()
	}
}

// drop empties the queue, keeping a small buffer for the next writes.
func (c *conn) drop() {
	c.chunks, c.first = c.chunks[:0], 0
	c.buf, c.head = c.buf[:0], 0
	if cap(c.buf) > keepQueue {
		c.buf = nil
	}
}

// Read reads from the socket, no faster than the upstream bandwidth.
func (c *conn) Read(b []byte) (int, error) {
	if c.p.Up > 0 {
		b = b[:min(len(b), chunkSize(c.p.Up))]
	}
	n, err := c.Conn.Read(b)
	if n > 0 && c.p.Up > 0 {
		c.pace(n)
	}
	if err != nil {
		c.mu.Lock()
		if c.closed {
			err = c.opError("read", net.ErrClosed)
		}
		c.mu.Unlock()
	}
	return n, err
}

// pace sleeps until n bytes that arrived now have crossed the upstream
// link, after those ahead of them.
func (c *conn) pace(n int) {
	now := time.Now()
	free := c.up.send(now, n, c.p.Up, func(freeFor time.Duration) bool { return freeFor > readSlack })
	if d := free.Sub(now); d >= minReadSleep {
		time.Sleep(d)
	}
}

// Close closes c without waiting: the flusher delivers what is queued,
// until the write deadline or for 10 s at most, then closes the socket.
// Blocked Reads return at once.
func (c *conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opError("close", net.ErrClosed)
	}
	c.closed = true
	c.closeBy = time.Now().Add(closeLinger)
	if !c.deadline.IsZero() && c.deadline.Before(c.closeBy) {
		c.closeBy = c.deadline
	}
	running := c.running
	c.changed()
	c.mu.Unlock()
	if !running {
		return c.Conn.Close()
	}
	c.Conn.SetReadDeadline(aLongTimeAgo)
	c.Conn.SetWriteDeadline(c.closeBy) // bounds the write in progress
	c.poke()
	return nil
}

type closeWriter interface{ CloseWrite() error }

// CloseWrite half-closes c once the queue has drained, where the socket
// can (a TCP connection can), so that a server can say goodbye and still
// read what its client sends; later Writes fail.
func (c *conn) CloseWrite() error {
	cw, ok := c.Conn.(closeWriter)
	if !ok {
		return errors.ErrUnsupported
	}
	c.mu.Lock()
	if c.closed || c.halfDone {
		c.mu.Unlock()
		return c.opError("close", net.ErrClosed)
	}
	c.halfDone = true
	running := c.running
	c.changed()
	c.mu.Unlock()
	if !running {
		return cw.CloseWrite()
	}
	c.poke()
	return nil
}

// SetDeadline sets the read deadline of the socket and the write deadline
// of the queue.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(t)
}

// SetReadDeadline sets the socket's read deadline.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return c.opError("set", net.ErrClosed)
	}
	return c.Conn.SetReadDeadline(t)
}

// SetWriteDeadline sets how long Writes may wait for room in the queue.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set", net.ErrClosed)
	}
	c.deadline = t
	c.changed()
	return nil
}

func (c *conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
