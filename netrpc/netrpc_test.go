package netrpcbank_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/rpc"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	netrpcbank "github.com/igbank/igbank/netrpc"
)

func newServer(opts ...netrpcbank.ServerOption) transport.NewServerFunc {
	return func(b bank.Bank) transport.Server { return netrpcbank.NewServer(b, opts...) }
}

func dial(opts ...netrpcbank.ClientOption) transport.DialFunc {
	return func(ctx context.Context, addr string) (transport.Client, error) {
		c, err := netrpcbank.Dial(ctx, addr, opts...)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

func TestConformance(t *testing.T) {
	banktest.Run(t, banktest.Transport(newServer(), dial()))
}

func TestConformancePool(t *testing.T) {
	banktest.Run(t, banktest.Transport(newServer(), dial(netrpcbank.WithConns(3))))
}

func newBank() bank.Bank { return bank.NewService(ledger.NewMemory(100)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serve starts a server of b with opts and returns its address.
func serve(t *testing.T, b bank.Bank, opts ...netrpcbank.ServerOption) string {
	t.Helper()
	return banktest.Serve(t, netrpcbank.NewServer(b, opts...))
}

func dialT(t *testing.T, addr string, opts ...netrpcbank.ClientOption) *netrpcbank.Client {
	t.Helper()
	c, err := netrpcbank.Dial(testCtx(t), addr, opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantBalance(t *testing.T, c bank.Bank, i int) {
	t.Helper()
	got, err := c.Balance(testCtx(t), ledger.SeedAccount(i))
	if err != nil || got != ledger.SeedBalance(i) {
		t.Fatalf("Balance(%d) = %d, %v; want %d", i, got, err, ledger.SeedBalance(i))
	}
}

// A plain net/rpc client speaks to the server, and sees the error
// convention as it is on the wire.
func TestPlainRPCClient(t *testing.T) {
	addr := serve(t, newBank())
	rc, err := rpc.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var reply netrpcbank.BalanceReply
	if err := rc.Call(netrpcbank.MethodBalance, &netrpcbank.BalanceArgs{Account: ledger.SeedAccount(5)}, &reply); err != nil {
		t.Fatal(err)
	}
	if reply.Balance != ledger.SeedBalance(5) {
		t.Fatalf("balance %d, want %d", reply.Balance, ledger.SeedBalance(5))
	}
	err = rc.Call(netrpcbank.MethodBalance, &netrpcbank.BalanceArgs{Account: "999999999"}, &reply)
	var se rpc.ServerError
	if !errors.As(err, &se) || !strings.HasPrefix(string(se), "igbank:not_found:") {
		t.Fatalf("error %q, want one starting igbank:not_found:", err)
	}
	// An unknown method is a net/rpc error, outside the convention.
	err = rc.Call("IGBank.Withdraw", &netrpcbank.BalanceArgs{}, &reply)
	if !errors.As(err, &se) {
		t.Fatalf("unknown method: %v", err)
	}
}

// A net/rpc error that does not follow the convention reaches the Client
// as Internal; a dead connection as Unavailable.
func TestErrorsOutsideConvention(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A server with a different service under the same name.
	rs := rpc.NewServer()
	if err := rs.RegisterName(netrpcbank.ServiceName, new(other)); err != nil {
		t.Fatal(err)
	}
	go rs.Accept(l)
	c := dialT(t, l.Addr().String())
	_, err = c.Balance(testCtx(t), ledger.SeedAccount(1))
	if bank.CodeOf(err) != bank.Internal {
		t.Fatalf("unknown method: got %v (code %v), want internal", err, bank.CodeOf(err))
	}
	l.Close()
}

type other struct{}

func (other) Ping(*int, *int) error { return nil }

// A server that panics answers Internal and keeps serving.
func TestPanicIsInternal(t *testing.T) {
	b := &panicky{Bank: newBank()}
	var logs strings.Builder
	var mu sync.Mutex
	addr := serve(t, b, netrpcbank.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))))
	c := dialT(t, addr)
	b.panics.Store(true)
	_, err := c.Balance(testCtx(t), ledger.SeedAccount(1))
	if !errors.Is(err, bank.ErrInternal) {
		t.Fatalf("got %v, want internal", err)
	}
	b.panics.Store(false)
	wantBalance(t, c, 1)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), `msg="panic recovered"`) || !strings.Contains(logs.String(), "method=IGBank.Balance panic=boom") {
		t.Fatalf("panic not logged: %q", logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Garbage on one connection closes that connection only; the server keeps
// serving the others and new ones.
func TestGarbageClosesOnlyThatConnection(t *testing.T) {
	addr := serve(t, newBank(), netrpcbank.WithTimeouts(transport.Timeouts{Read: 300 * time.Millisecond}), netrpcbank.WithMaxRequestBytes(8<<10))
	good := dialT(t, addr)
	wantBalance(t, good, 1)

	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"random", random},
		{"http", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"huge count", []byte{0xf8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"oversized", append([]byte{0xfc, 0x00, 0x10, 0x00, 0x00}, make([]byte, 32<<10)...)}, // a 1 MiB message
		{"truncated", []byte{0x20, 0x01}},
		{"zeros", make([]byte, 1024)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.Write(tc.payload) // may fail once the server has closed
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.Copy(io.Discard, nc)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("server did not close the connection")
			}
			wantBalance(t, good, 2)
			fresh := dialT(t, addr)
			wantBalance(t, fresh, 3)
		})
	}
}

// gate is a bank whose Balance and Deposit signal entered and then wait
// for release (or their context), so a test knows a call is in flight.
type gate struct {
	bank.Bank
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{Bank: newBank(), entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gate) hold(ctx context.Context) error {
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return bank.FromContext(ctx, ctx.Err())
	}
}

func (g *gate) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if err := g.hold(ctx); err != nil {
		return 0, err
	}
	return g.Bank.Balance(ctx, acc)
}

func (g *gate) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if err := g.hold(ctx); err != nil {
		return bank.DepositReceipt{}, err
	}
	return g.Bank.Deposit(ctx, req)
}

func waitEntered(t *testing.T, g *gate) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the call never reached the server")
	}
}

// Shutdown lets a call in flight finish and answer, stops the server from
// reading more, and Serve returns nil.
func TestShutdownWaitsForCallsInFlight(t *testing.T) {
	g := newGate()
	srv := netrpcbank.NewServer(g)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	c := dialT(t, l.Addr().String())

	got := make(chan error, 1)
	go func() {
		_, err := c.Deposit(testCtx(t), bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 5, IdempotencyKey: "in-flight"})
		got <- err
	}()
	waitEntered(t, g)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(g.release)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatalf("call in flight during Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	_, err = c.Balance(testCtx(t), ledger.SeedAccount(1))
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("call after Shutdown: %v, want unavailable", err)
	}
	if _, err := net.DialTimeout("tcp", l.Addr().String(), time.Second); err == nil {
		t.Fatalf("listener still accepting after Shutdown")
	}
}

// Shutdown gives up when its context ends, closes the connections and
// cancels the calls still running.
func TestShutdownDeadline(t *testing.T) {
	g := newGate()
	srv := netrpcbank.NewServer(g)
	addr := banktest.Serve(t, srv)
	c := dialT(t, addr)
	got := make(chan error, 1)
	go func() {
		_, err := c.Balance(testCtx(t), ledger.SeedAccount(1))
		got <- err
	}()
	waitEntered(t, g)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	select {
	case err := <-got:
		if err == nil {
			t.Fatalf("call cut off by Shutdown succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("call still waiting after a forced Shutdown")
	}
}

// The client reconnects after its connection broke: the call that was on
// it may fail, later calls work on a new connection.
func TestReconnect(t *testing.T) {
	b := newBank()
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	d := &net.Dialer{}
	c := dialT(t, serve(t, b), netrpcbank.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
		}
		return nc, err
	}))
	wantBalance(t, c, 1)
	for round := 0; round < 3; round++ {
		mu.Lock()
		conns[len(conns)-1].Close() // the network breaks under the client
		mu.Unlock()
		_, err := c.Balance(testCtx(t), ledger.SeedAccount(1))
		if err != nil && !errors.Is(err, bank.ErrUnavailable) {
			t.Fatalf("call on a broken connection: %v, want unavailable or success", err)
		}
		wantBalance(t, c, 1)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(conns) != 4 {
		t.Fatalf("%d connections dialed, want 4", len(conns))
	}
}

// A server restarted on the same address is reached again.
func TestReconnectAfterServerRestart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	srv := netrpcbank.NewServer(newBank())
	go srv.Serve(l)
	c := dialT(t, addr)
	wantBalance(t, c, 1)
	srv.Shutdown(testCtx(t))

	_, err = c.Balance(testCtx(t), ledger.SeedAccount(1))
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("with the server down: %v, want unavailable", err)
	}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	srv = netrpcbank.NewServer(newBank())
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	wantBalance(t, c, 1)
}

func TestDialUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = netrpcbank.Dial(testCtx(t), addr)
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Dial of a closed port: %v, want unavailable", err)
	}
}

// Calls after Close fail with Unavailable, and do not dial again.
func TestClosedClient(t *testing.T) {
	c, err := netrpcbank.Dial(testCtx(t), serve(t, newBank()))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err = c.Balance(testCtx(t), ledger.SeedAccount(1))
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("after Close: %v, want unavailable", err)
	}
}

// The server bounds a call by the Timeout its arguments carry.
func TestServerBoundsCallByArgsTimeout(t *testing.T) {
	slow := &banktest.Slow{Bank: newBank(), Delay: 5 * time.Second}
	t.Cleanup(slow.Release)
	addr := serve(t, slow)
	rc, err := rpc.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	start := time.Now()
	var reply netrpcbank.BalanceReply
	err = rc.Call(netrpcbank.MethodBalance, &netrpcbank.BalanceArgs{Account: ledger.SeedAccount(1), Timeout: 100 * time.Millisecond}, &reply)
	var se rpc.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a server error", err)
	}
	if berr, ok := netrpcbank.DecodeError(string(se)); !ok || !errors.Is(berr, bank.ErrDeadlineExceeded) {
		t.Fatalf("got %q, want deadline_exceeded", se)
	}
	if time.Since(start) > slow.Delay/2 {
		t.Fatalf("server ran the call for %v, past the 100ms it was given", time.Since(start))
	}
}

// Past the connection limit, a new connection is served at once: the
// idle connection of the first client is reclaimed for it (package
// admit), and the first client dials anew on its next call. (Before the
// admission, the new connection was not served until another closed.)
func TestMaxConns(t *testing.T) {
	addr := serve(t, newBank(), netrpcbank.WithMaxConns(1))
	first := dialT(t, addr)
	wantBalance(t, first, 1)
	c2 := dialT(t, addr)
	wantBalance(t, c2, 1)
	wantBalanceReclaimed(t, first)
}

// wantBalanceReclaimed checks that c, whose connection the server
// reclaimed, is served on a new one. Its first call may have been sent
// on the closed connection before the client saw it close: that call
// fails as unavailable, which a caller may retry (the retry layer does).
func wantBalanceReclaimed(t *testing.T, c bank.Bank) {
	t.Helper()
	if _, err := c.Balance(testCtx(t), ledger.SeedAccount(1)); err != nil && !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("call on a reclaimed connection: %v, want success or unavailable", err)
	}
	wantBalance(t, c, 1)
}

// TestAdmission runs the admission section (a flood of idle connections,
// the first-request deadline, a server full of busy connections).
// TestHealth: SERVING, then NOT_SERVING or unavailable once Shutdown has
// begun (banktest.RunHealth).
func TestHealth(t *testing.T) { banktest.RunHealth(t, netrpcbank.Transport.Variants[0]) }

func TestAdmission(t *testing.T) {
	banktest.RunAdmission(t, netrpcbank.Transport.Variants[0])
}

// An idle connection is closed by the server; the client dials again.
func TestIdleTimeout(t *testing.T) {
	addr := serve(t, newBank(), netrpcbank.WithTimeouts(transport.Timeouts{Idle: 100 * time.Millisecond}))
	var (
		mu    sync.Mutex
		dials int
	)
	closedByServer := make(chan struct{}, 4)
	d := &net.Dialer{}
	c := dialT(t, addr, netrpcbank.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dials++
		mu.Unlock()
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &eofSignal{Conn: nc, eof: closedByServer}, nil
	}))
	wantBalance(t, c, 1)
	select {
	case <-closedByServer:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not close the idle connection")
	}
	// The first call after that may find the connection broken
	// (unavailable); the next one dials again.
	if _, err := c.Balance(testCtx(t), ledger.SeedAccount(1)); err != nil && !errors.Is(err, bank.ErrUnavailable) {
		t.Fatal(err)
	}
	wantBalance(t, c, 1)
	mu.Lock()
	defer mu.Unlock()
	if dials < 2 {
		t.Fatalf("%d dials after the idle connection was closed", dials)
	}
}

// eofSignal reports on eof when the peer closes the connection.
type eofSignal struct {
	net.Conn
	eof  chan struct{}
	once sync.Once
}

func (e *eofSignal) Read(p []byte) (int, error) {
	n, err := e.Conn.Read(p)
	if errors.Is(err, io.EOF) {
		e.once.Do(func() { e.eof <- struct{}{} })
	}
	return n, err
}

// A call running longer than the idle timeout keeps its connection.
func TestIdleTimeoutSparesCallsInFlight(t *testing.T) {
	slow := &banktest.Slow{Bank: newBank(), Delay: 400 * time.Millisecond}
	addr := serve(t, slow, netrpcbank.WithTimeouts(transport.Timeouts{Idle: 100 * time.Millisecond}))
	c := dialT(t, addr)
	if _, err := c.Balance(testCtx(t), ledger.SeedAccount(1)); err != nil {
		t.Fatalf("slow call with a short idle timeout: %v", err)
	}
}

type panicky struct {
	bank.Bank
	panics atomic.Bool
}

func (p *panicky) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if p.panics.Load() {
		panic("boom")
	}
	return p.Bank.Balance(ctx, acc)
}

// A dial that gets no answer within the dial timeout is Unavailable, not
// the caller's deadline.
func TestDialTimeoutIsUnavailable(t *testing.T) {
	hang := func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	_, err := netrpcbank.Dial(testCtx(t), "127.0.0.1:1", netrpcbank.WithDialer(hang), netrpcbank.WithDialTimeout(50*time.Millisecond))
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Dial past the dial timeout: %v, want unavailable", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = netrpcbank.Dial(ctx, "127.0.0.1:1", netrpcbank.WithDialer(hang))
	if !errors.Is(err, bank.ErrDeadlineExceeded) {
		t.Fatalf("Dial past the caller's deadline: %v, want deadline exceeded", err)
	}
}

// Past WithMaxCallsPerConn the server stops reading the connection: the
// extra calls wait, and run once a slot frees.
func TestMaxCallsPerConn(t *testing.T) {
	g := newGate()
	c := dialT(t, serve(t, g, netrpcbank.WithMaxCallsPerConn(2)))
	errc := make(chan error, 4)
	for k := 0; k < 4; k++ {
		go func() {
			_, err := c.Balance(testCtx(t), ledger.SeedAccount(1))
			errc <- err
		}()
	}
	waitEntered(t, g)
	waitEntered(t, g)
	select {
	case <-g.entered:
		t.Fatal("a third call ran on a connection limited to 2")
	case <-time.After(200 * time.Millisecond):
	}
	close(g.release)
	for k := 0; k < 4; k++ {
		if err := <-errc; err != nil {
			t.Fatalf("call %d: %v", k, err)
		}
	}
}

// TestSecurity runs, over every variant with TLS on, the whole conformance
// suite as the teller (mutual TLS, the bank behind auth.Authorize) and the
// security section (mutual TLS, bearer tokens, a plaintext client, keys
// scoped to their principal).
func TestSecurity(t *testing.T) {
	for _, v := range netrpcbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) {
			t.Run("Conformance", func(t *testing.T) { banktest.Run(t, banktest.Secure(v)) })
			banktest.RunSecurity(t, v, netrpcbank.Transport.Tokens)
		})
	}
}

// A request whose body stops arriving is answered as a deadline, in the
// convention (a typed error at our client), and the answer names no socket
// address: net/rpc sends the text of the codec's error as the reply.
func TestSlowBodyIsDeadlineWithoutAddresses(t *testing.T) {
	addr := serve(t, newBank(), netrpcbank.WithTimeouts(transport.Timeouts{Read: 200 * time.Millisecond}))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	full := requestBytes("IGBank.Balance", &netrpcbank.BalanceArgs{Account: ledger.SeedAccount(1)})
	var header bytes.Buffer
	gob.NewEncoder(&header).Encode(&rpc.Request{ServiceMethod: "IGBank.Balance", Seq: 0})
	// The header and the first byte of the body, then nothing.
	if _, err := nc.Write(full[:header.Len()+1]); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var resp rpc.Response
	if err := gob.NewDecoder(nc).Decode(&resp); err != nil {
		t.Fatalf("no reply to the stalled request: %v", err)
	}
	got, ok := netrpcbank.DecodeError(resp.Error)
	if !ok || !errors.Is(got, bank.ErrDeadlineExceeded) {
		t.Fatalf("reply %q, want a deadline_exceeded error in the convention", resp.Error)
	}
	if strings.Contains(resp.Error, "127.0.0.1") || strings.Contains(resp.Error, "tcp") {
		t.Fatalf("reply %q names the connection", resp.Error)
	}
}

// A client that never reads a reply larger than the codec's 4 KiB write
// buffer loses its connection at the server's write timeout: such a reply
// bypasses the buffer, and once went out with no deadline at all.
func TestSlowReader(t *testing.T) {
	banktest.RunSlowReader(t, netrpcbank.Transport.Variants[0], 2000)
}

// A request that announces a message larger than WithMaxRequestBytes is
// refused from its length at once: gob would otherwise allocate up to
// 10 MiB for it and wait for the bytes until the read timeout.
func TestAnnouncedLargeMessageRefusedAtOnce(t *testing.T) {
	addr := serve(t, newBank(), netrpcbank.WithTimeouts(transport.Timeouts{Read: time.Minute, FirstRequest: time.Minute}))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte{0xfc, 0x00, 0x9f, 0xff, 0xff}) // a message of 10 MiB - 1, then nothing
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server waited for the body of an oversized message instead of refusing it from its length")
	}
}

// TestHiddenCause: the cause of an internal error is logged, not sent
// (banktest.RunHiddenCause).
func TestHiddenCause(t *testing.T) { banktest.RunHiddenCause(t, netrpcbank.Transport.Variants[0]) }
