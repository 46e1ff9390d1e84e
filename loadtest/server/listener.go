package server

import (
	"net"
	"sync/atomic"
)

// countingListener counts the bytes its connections read and write: what
// crossed the wire in each direction, above TCP.
type countingListener struct {
	net.Listener
	in, out atomic.Uint64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

func (l *countingListener) counts() (in, out uint64) { return l.in.Load(), l.out.Load() }

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.in.Add(uint64(n))
	return n, err
}

// Write counts p before it writes it: a client that has read the reply
// may ask for the counts before this Write returns, and must see them.
// What was not written after all is taken back.
func (c *countingConn) Write(p []byte) (int, error) {
	c.l.out.Add(uint64(len(p)))
	n, err := c.Conn.Write(p)
	if n < len(p) {
		c.l.out.Add(^uint64(len(p) - n - 1)) // subtract what was not written
	}
	return n, err
}
