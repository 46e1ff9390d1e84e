package registry

import (
	"context"
	"io"
	"net"
	"sync"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/connpool"
	"github.com/igbank/igbank/common/connserver"
	"github.com/igbank/igbank/common/transport"
)

// ReferenceName is the name of the bare TCP ping-pong that runs in every
// round beside the transports.
const ReferenceName = "tcp-pingpong"

// Reference is the minimal transport every other one is compared with: a
// bare TCP ping-pong of a fixed 16-byte frame each way, one call in flight
// per connection, and no bank logic at all. Its client answers every call
// with zero values. It is what the machine's loopback and scheduler cost,
// so a transport's ratio to it is the transport's own cost.
var Reference = transport.Variant{
	Name:      ReferenceName,
	NewServer: func(bank.Bank, transport.ServerConfig) transport.Server { return newPingServer() },
	Dial: func(ctx context.Context, addr string, _ transport.ClientConfig) (transport.Client, error) {
		return dialPing(ctx, addr)
	},
}

const pingFrame = 16

// newPingServer serves the ping-pong on the accept loop and connection
// tracking the raw-sockets, net/rpc and Thrift servers share.
func newPingServer() *connserver.Server {
	return connserver.New(connserver.Config{NewConn: func(nc net.Conn) connserver.Conn { return pingConn{nc} }})
}

// pingConn echoes 16-byte frames until the peer goes. A ping-pong has no
// call worth waiting for, so Drain closes it like Close.
type pingConn struct{ net.Conn }

func (c pingConn) Serve() {
	defer c.Conn.Close()
	var buf [pingFrame]byte
	for {
		if _, err := io.ReadFull(c.Conn, buf[:]); err != nil {
			return
		}
		if _, err := c.Conn.Write(buf[:]); err != nil {
			return
		}
	}
}

func (c pingConn) Drain() { c.Conn.Close() }
func (c pingConn) Close() { c.Conn.Close() }

// pingClient lends each call a connection of its own from an unbounded
// connpool.Exclusive: an idle one, or a new one whenever all are busy.
type pingClient struct {
	pool *connpool.Exclusive[net.Conn]
	bufs sync.Pool
}

func dialPing(ctx context.Context, addr string) (transport.Client, error) {
	c := &pingClient{}
	c.bufs.New = func() any { return new([pingFrame]byte) }
	var d net.Dialer
	c.pool = connpool.NewExclusive(connpool.ExclusiveConfig[net.Conn]{
		Dial:  func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) },
		Close: func(conn net.Conn) { conn.Close() },
	})
	conn, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	c.pool.Put(conn)
	return c, nil
}

func (c *pingClient) get(ctx context.Context) (net.Conn, error) {
	conn, err := c.pool.Get(ctx)
	if err != nil {
		if err == connpool.ErrClosed {
			return nil, bank.Errorf(bank.Unavailable, "client closed")
		}
		return nil, bank.FromContext(ctx, err)
	}
	return conn, nil
}

func (c *pingClient) call(ctx context.Context) error {
	conn, err := c.get(ctx)
	if err != nil {
		return err
	}
	buf := c.bufs.Get().(*[pingFrame]byte)
	defer c.bufs.Put(buf)
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err = conn.Write(buf[:]); err == nil {
		_, err = io.ReadFull(conn, buf[:])
	}
	if err != nil {
		c.pool.Discard(conn)
		return bank.FromContext(ctx, err)
	}
	if _, ok := ctx.Deadline(); ok {
		conn.SetDeadline(time.Time{})
	}
	c.pool.Put(conn)
	return nil
}

func (c *pingClient) Balance(ctx context.Context, _ bank.AccountNo) (bank.Money, error) {
	return 0, c.call(ctx)
}

func (c *pingClient) Statement(ctx context.Context, _ bank.StatementRequest) (bank.Statement, error) {
	return bank.Statement{}, c.call(ctx)
}

func (c *pingClient) Deposit(ctx context.Context, _ bank.DepositRequest) (bank.DepositReceipt, error) {
	return bank.DepositReceipt{}, c.call(ctx)
}

// Close closes the idle connections, and each busy one when its call
// ends.
func (c *pingClient) Close() error {
	c.pool.Close()
	return nil
}

// noopClient answers every call at once with zero values: the client of
// the no-op in-process transport, which measures the generator alone.
type noopClient struct{}

func (noopClient) Balance(context.Context, bank.AccountNo) (bank.Money, error) { return 0, nil }
func (noopClient) Statement(context.Context, bank.StatementRequest) (bank.Statement, error) {
	return bank.Statement{}, nil
}
func (noopClient) Deposit(context.Context, bank.DepositRequest) (bank.DepositReceipt, error) {
	return bank.DepositReceipt{}, nil
}
func (noopClient) Close() error { return nil }

// Noop is a client that does nothing; driving it measures the load
// generator's own cost per request.
var Noop transport.Client = noopClient{}
