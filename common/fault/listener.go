package fault

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// ErrInjected is the error of a read or write that a Listener swallowed.
var ErrInjected = errors.New("fault: connection reset by injected fault")

// Listener is a net.Listener whose accepted connections can be broken on
// demand. It is safe for concurrent use.
type Listener struct {
	net.Listener

	mu    sync.Mutex
	conns map[*Conn]struct{}

	dropReads  atomic.Int32 // armed read faults
	dropWrites atomic.Int32 // armed write faults
	resets     atomic.Int64
}

// Listen listens on network and address, like net.Listen.
func Listen(network, address string) (*Listener, error) {
	l, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	return WrapListener(l), nil
}

// WrapListener returns l with fault injection.
func WrapListener(l net.Listener) *Listener {
	return &Listener{Listener: l, conns: make(map[*Conn]struct{})}
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	fc := &Conn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[fc] = struct{}{}
	l.mu.Unlock()
	return fc, nil
}

// ResetAll resets every open connection now (a TCP RST where it can) and
// returns how many there were. Calls in progress on them lose their
// responses; clients must reconnect.
func (l *Listener) ResetAll() int {
	l.mu.Lock()
	cs := make([]*Conn, 0, len(l.conns))
	for c := range l.conns {
		cs = append(cs, c)
	}
	l.mu.Unlock()
	for _, c := range cs {
		c.reset()
	}
	return len(cs)
}

// DropNextRead arms a fault: the next read that brings bytes on any
// connection discards them and resets that connection, so the server never
// sees the request (or whatever those bytes were).
func (l *Listener) DropNextRead() { l.dropReads.Add(1) }

// DropNextWrite arms a fault: the next write on any connection is
// swallowed and that connection reset, so the client never gets the
// response (or whatever those bytes were).
func (l *Listener) DropNextWrite() { l.dropWrites.Add(1) }

// Disarm cancels armed read and write faults that have not fired.
func (l *Listener) Disarm() { l.dropReads.Store(0); l.dropWrites.Store(0) }

// Open returns the number of open connections.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Resets returns how many connections a Listener has reset.
func (l *Listener) Resets() int64 { return l.resets.Load() }

// take consumes one armed fault from n, if any.
func take(n *atomic.Int32) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// Conn is a connection accepted by a Listener.
type Conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

// Read implements net.Conn.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && take(&c.l.dropReads) {
		c.reset()
		return 0, ErrInjected
	}
	return n, err
}

// Write implements net.Conn.
func (c *Conn) Write(p []byte) (int, error) {
	if len(p) > 0 && take(&c.l.dropWrites) {
		c.reset()
		return 0, ErrInjected
	}
	return c.Conn.Write(p)
}

// Close implements net.Conn.
func (c *Conn) Close() error {
	c.forget()
	return c.Conn.Close()
}

func (c *Conn) forget() {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
}

// reset closes the connection with a TCP RST (linger 0) rather than a
// graceful FIN, as a crashed peer or a middlebox would.
func (c *Conn) reset() {
	c.once.Do(func() {
		c.l.resets.Add(1)
		if tc, ok := c.Conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.forget()
		c.Conn.Close()
	})
}
