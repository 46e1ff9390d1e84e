package banktest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// SlowReaderWrite is the write timeout RunSlowReader gives its server.
const SlowReaderWrite = 300 * time.Millisecond

// RunSlowReader checks that a client that stops reading cannot hold a
// server's connection (and with it the reply, and the goroutine writing
// it) past the server's write timeout, whatever the reply's size: the
// client asks for a statement of about 100 KB and never reads it, over
// socket buffers kept small on both sides so that the reply cannot hide
// in the kernel; the server must close the connection once its write
// timeout has passed. txs is the number of transactions in the statement
// (the reply must fit the transport's reply limit).
func RunSlowReader(t *testing.T, v transport.Variant, txs int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := v.NewServer(bigStatements{Bank: bank.NewService(ledger.NewMemory(10)), n: txs},
		transport.ServerConfig{Timeouts: transport.Timeouts{Write: SlowReaderWrite}})
	ServeListener(t, srv, smallSendBuffers{l})

	socks := make(chan net.Conn, 8)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetReadBuffer(4 << 10)
		}
		t.Cleanup(func() { nc.Close() })
		socks <- nc
		return &unread{Conn: nc, closed: make(chan struct{})}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := v.Dial(ctx, l.Addr().String(), transport.ClientConfig{Conns: 1, Dialer: dial})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	callCtx, cancelCall := context.WithTimeout(ctx, 3*SlowReaderWrite)
	_, err = c.Statement(callCtx, bank.StatementRequest{Account: ledger.SeedAccount(1), Month: bank.MonthOf(time.Now())})
	cancelCall()
	if err == nil {
		t.Fatal("a client that reads nothing got its statement")
	}
	var sock net.Conn
	select {
	case sock = <-socks:
	default:
		t.Fatal("the client opened no connection")
	}
	// Read what the server managed to send: a server that cut the
	// connection off at its write timeout has closed it by now, so the
	// read ends at its end; a server still waiting to write would send
	// the rest of the reply and then wait for the next request.
	sock.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, sock)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection of a client that did not read past its write timeout (%d bytes read afterwards)", n)
	}
}

// bigStatements answers every statement with n transactions.
type bigStatements struct {
	bank.Bank
	n int
}

func (b bigStatements) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	st, err := b.Bank.Statement(ctx, req)
	if err != nil {
		return st, err
	}
	now := time.Now().UTC()
	for i := range b.n {
		st.Transactions = append(st.Transactions, bank.Transaction{ID: int64(i + 1), Time: now, Amount: 1,
			BalanceAfter: st.Opening + bank.Money(i+1), IdempotencyKey: fmt.Sprintf("slow-reader-%08d", i)})
	}
	st.Closing = st.Opening + bank.Money(b.n)
	return st, nil
}

// smallSendBuffers gives every accepted connection a small send buffer.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4 << 10)
	}
	return nc, err
}

// unread is a connection whose reads return nothing until it is closed
// or their deadline passes; closing it leaves the socket under it open,
// for the test to inspect.
type unread struct {
	net.Conn
	once   sync.Once
	closed chan struct{}

	mu           sync.Mutex
	readDeadline time.Time
}

func (u *unread) Read([]byte) (int, error) {
	u.mu.Lock()
	d := u.readDeadline
	u.mu.Unlock()
	var timeout <-chan time.Time
	if !d.IsZero() {
		t := time.NewTimer(time.Until(d))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-u.closed:
		return 0, net.ErrClosed
	case <-timeout:
		return 0, os.ErrDeadlineExceeded
	}
}

func (u *unread) SetReadDeadline(t time.Time) error {
	u.mu.Lock()
	u.readDeadline = t
	u.mu.Unlock()
	return nil
}

func (u *unread) SetDeadline(t time.Time) error {
	u.SetReadDeadline(t)
	return u.Conn.SetWriteDeadline(t)
}

func (u *unread) Close() error {
	u.once.Do(func() { close(u.closed) })
	return nil
}
