package hostile

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

// Requests are the bytes a real client writes for one call: First opens a
// connection and makes the call (handshakes, prefaces, type definitions
// and all); Next is the same call again on that connection.
type Requests struct {
	First, Next []byte
}

// Captured are a transport's requests for a balance and for a statement
// page of bank.MaxPageSize transactions (the largest reply a caller can
// ask for).
type Captured struct {
	Balance, Statement Requests
}

// Capture records what v's client writes to the server at addr for a
// balance of acc and a statement page of acc for month (of the most
// transactions, bank.MaxPageSize), each called twice on one connection.
func Capture(ctx context.Context, v transport.Variant, addr string, acc bank.AccountNo, month bank.Month) (Captured, error) {
	var c Captured
	var err error
	if c.Balance, err = capture(ctx, v, addr, func(ctx context.Context, b bank.Bank) error {
		_, err := b.Balance(ctx, acc)
		return err
	}); err != nil {
		return c, fmt.Errorf("capture a balance: %w", err)
	}
	if c.Statement, err = capture(ctx, v, addr, func(ctx context.Context, b bank.Bank) error {
		_, err := b.Statement(ctx, bank.StatementRequest{Account: acc, Month: month, PageSize: bank.MaxPageSize})
		return err
	}); err != nil {
		return c, fmt.Errorf("capture a statement: %w", err)
	}
	return c, nil
}

// capture tries three times: a client may open a second connection of
// its own accord (gRPC reconnects when a connection ends early).
func capture(ctx context.Context, v transport.Variant, addr string, call func(context.Context, bank.Bank) error) (r Requests, err error) {
	for range 3 {
		if r, err = captureOnce(ctx, v, addr, call); err == nil {
			return r, nil
		}
	}
	return r, err
}

func captureOnce(ctx context.Context, v transport.Variant, addr string, call func(context.Context, bank.Bank) error) (Requests, error) {
	var rec recorder
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &recordingConn{Conn: c, rec: &rec}, nil
	}
	c, err := v.Dial(ctx, addr, transport.ClientConfig{Conns: 1, Dialer: dial})
	if err != nil {
		return Requests{}, err
	}
	defer c.Close()
	if err := call(ctx, c); err != nil {
		return Requests{}, err
	}
	first := rec.bytes()
	if err := call(ctx, c); err != nil {
		return Requests{}, err
	}
	all := rec.bytes()
	if rec.conns() != 1 || len(first) == 0 || len(all) == len(first) {
		return Requests{}, fmt.Errorf("%s: the client did not make both calls on one connection", v.Name)
	}
	return Requests{First: first, Next: all[len(first):]}, nil
}

// recorder keeps what the client wrote.
type recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int // connections
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

func (r *recorder) conns() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

type recordingConn struct {
	net.Conn
	rec   *recorder
	named bool
}

func (c *recordingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.rec.mu.Lock()
	if !c.named {
		c.named = true
		c.rec.n++
	}
	c.rec.buf.Write(p[:n])
	c.rec.mu.Unlock()
	return n, err
}
