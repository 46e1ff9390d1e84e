package metrics

import (
	"net"
	"sync"
	"sync/atomic"
)

// Wire counts the connections and bytes of the listeners it wraps: what
// crossed the wire in each direction, above TCP (TLS records included).
// The zero value is ready; it is safe for concurrent use.
type Wire struct {
	in, out        atomic.Uint64
	open, accepted atomic.Int64
}

// Listener returns l with its connections counted by w.
func (w *Wire) Listener(l net.Listener) net.Listener { return &listener{Listener: l, w: w} }

// Bytes returns the bytes read (in) and written (out) so far.
func (w *Wire) Bytes() (in, out uint64) { return w.in.Load(), w.out.Load() }

// Conns returns the connections open now and accepted so far.
func (w *Wire) Conns() (open, accepted int64) { return w.open.Load(), w.accepted.Load() }

type listener struct {
	net.Listener
	w *Wire
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.w.accepted.Add(1)
	l.w.open.Add(1)
	return &conn{Conn: c, w: l.w}, nil
}

type conn struct {
	net.Conn
	w     *Wire
	close sync.Once
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.in.Add(uint64(n))
	return n, err
}

// Write counts p before it writes it: a client that has read the reply
// may ask for the counts before this Write returns, and must see them.
// What was not written after all is taken back.
func (c *conn) Write(p []byte) (int, error) {
	c.w.out.Add(uint64(len(p)))
	n, err := c.Conn.Write(p)
	if n < len(p) {
		c.w.out.Add(^uint64(len(p) - n - 1)) // subtract what was not written
	}
	return n, err
}

func (c *conn) Close() error {
	c.close.Do(func() { c.w.open.Add(-1) })
	return c.Conn.Close()
}
