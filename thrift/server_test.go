package thriftbank_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	thriftbank "github.com/igbank/igbank/thrift"
)

var quiet = slog.New(slog.DiscardHandler)

func newBank() bank.Bank { return bank.NewService(ledger.NewMemory(10)) }

func dial(t *testing.T, addr string, opts ...thriftbank.ClientOption) *thriftbank.Client {
	t.Helper()
	c, err := thriftbank.Dial(context.Background(), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// rawConn connects to addr with a plain socket, for sending bytes no
// client would send.
func rawConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// wantClosed checks that the server closes nc (within 5 s) without
// sending more than a short answer first.
func wantClosed(t *testing.T, nc net.Conn) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, io.LimitReader(nc, 1<<16))
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("server did not close the connection: read %d bytes, then %v", n, err)
	}
}

// panicky panics in Balance.
type panicky struct{ bank.Bank }

func (panicky) Balance(context.Context, bank.AccountNo) (bank.Money, error) { panic("boom") }

func TestHandlerPanicBecomesInternal(t *testing.T) {
	addr := banktest.Serve(t, thriftbank.NewServer(panicky{newBank()}, thriftbank.WithLogger(quiet)))
	c := dial(t, addr)
	for i := 0; i < 3; i++ {
		if _, err := c.Balance(ctx(t), ledger.SeedAccount(1)); !errors.Is(err, bank.ErrInternal) {
			t.Fatalf("Balance with a panicking handler: %v, want internal", err)
		}
	}
	if _, err := c.Statement(ctx(t), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"}); err != nil {
		t.Fatalf("Statement after the panics: %v", err)
	}
}

func TestFrameOverLimitClosesConnection(t *testing.T) {
	addr := banktest.Serve(t, thriftbank.NewServer(newBank(), thriftbank.WithMaxFrameSize(1024)))
	// A length prefix past the limit: refused before any body is read.
	nc := rawConn(t, addr)
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 1<<30)
	nc.Write(hdr[:])
	wantClosed(t, nc)

	// A client sending a frame over the server's limit gets a typed
	// error, and the server goes on serving.
	c := dial(t, addr)
	_, err := c.Deposit(ctx(t), bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 1, IdempotencyKey: strings.Repeat("k", 4096)})
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Deposit in a 4 KiB frame to a server taking 1 KiB: %v, want unavailable", err)
	}
	if _, err := c.Balance(ctx(t), ledger.SeedAccount(1)); err != nil {
		t.Fatalf("Balance after the big frame: %v", err)
	}
}

func TestClientRefusesFrameOverItsLimit(t *testing.T) {
	b := newBank()
	for k := 0; k < 40; k++ {
		if _, err := b.Deposit(context.Background(), bank.DepositRequest{Account: ledger.SeedAccount(2), Amount: 1, IdempotencyKey: strings.Repeat("x", 200) + string(rune('A'+k))}); err != nil {
			t.Fatal(err)
		}
	}
	addr := banktest.Serve(t, thriftbank.NewServer(b))
	c := dial(t, addr, thriftbank.WithClientMaxFrameSize(1024))
	_, err := c.Statement(ctx(t), bank.StatementRequest{Account: ledger.SeedAccount(2), Month: bank.MonthOf(time.Now())})
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Statement of about 10 KiB to a client taking 1 KiB: %v, want unavailable", err)
	}
}

func TestGarbageDoesNotHurtTheServer(t *testing.T) {
	// A request cut short waits for its next frame until the read timeout.
	addr := banktest.Serve(t, thriftbank.NewServer(newBank(), thriftbank.WithTimeouts(transport.Timeouts{Read: 300 * time.Millisecond, Write: time.Second, Idle: time.Second})))
	for _, junk := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		{0, 0, 0, 5, 0x80, 0x01, 0, 1, 0xff},                   // truncated binary message
		{0, 0, 0, 8, 0x80, 0x01, 0, 1, 0x7f, 0xff, 0xff, 0xff}, // name length past the frame
		{0, 0, 0, 4, 0x82, 0x21, 0x00, 0x07},                   // compact header on a binary server
		{0, 0, 0, 0},                                           // empty frame
		{0xff, 0xff, 0xff, 0xff},                               // negative length
	} {
		t.Logf("junk % x", junk)
		nc := rawConn(t, addr)
		nc.Write(junk)
		wantClosed(t, nc)
	}
	c := dial(t, addr)
	if _, err := c.Balance(ctx(t), ledger.SeedAccount(1)); err != nil {
		t.Fatalf("Balance after the garbage: %v", err)
	}
}

// Past the connection limit, a new connection is served at once: the
// idle connection of the first client is reclaimed for it (package
// admit), and the first client dials anew. (Before the admission, the new
// connection was closed at once: a client could be locked out by idle
// ones. A server full of busy connections still refuses at once:
// TestAdmission.)
func TestConnectionLimit(t *testing.T) {
	addr := banktest.Serve(t, thriftbank.NewServer(newBank(), thriftbank.WithMaxConns(1)))
	first := dial(t, addr)
	if _, err := first.Balance(ctx(t), ledger.SeedAccount(1)); err != nil {
		t.Fatal(err)
	}
	second := dial(t, addr)
	if _, err := second.Balance(ctx(t), ledger.SeedAccount(1)); err != nil {
		t.Fatalf("Balance past the connection limit, the other connection idle: %v", err)
	}
	servedAfterReclaim(t, first)
}

// servedAfterReclaim checks that c, whose connection the server
// reclaimed, is served on a new one. Its first call may have been sent on
// the closed connection before the client saw it close: that call fails
// as unavailable, which a caller may retry (the retry layer does).
func servedAfterReclaim(t *testing.T, c bank.Bank) {
	t.Helper()
	if _, err := c.Balance(ctx(t), ledger.SeedAccount(1)); err != nil && !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("call on a reclaimed connection: %v, want success or unavailable", err)
	}
	if _, err := c.Balance(ctx(t), ledger.SeedAccount(1)); err != nil {
		t.Fatalf("call after the connection was reclaimed: %v", err)
	}
}

// TestAdmission runs the admission section (a flood of idle connections,
// the first-request deadline, a server full of busy connections) over
// both protocols.
func TestAdmission(t *testing.T) {
	for _, v := range thriftbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) { banktest.RunAdmission(t, v) })
	}
}

// TestSlowReader: a client that never reads a large reply loses its
// connection at the server's write timeout.
func TestSlowReader(t *testing.T) {
	banktest.RunSlowReader(t, thriftbank.Transport.Variants[0], 2000)
}

func TestIdleAndReadTimeouts(t *testing.T) {
	addr := banktest.Serve(t, thriftbank.NewServer(newBank(), thriftbank.WithTimeouts(transport.Timeouts{Read: 200 * time.Millisecond, Write: time.Second, Idle: 200 * time.Millisecond})))
	idle := rawConn(t, addr) // sends nothing
	wantClosed(t, idle)
	slow := rawConn(t, addr) // starts a frame and stalls
	slow.Write([]byte{0, 0, 0, 100, 0x80})
	wantClosed(t, slow)
}

// gate blocks Balance until the call's context ends or open is closed,
// and tells entered when a call is in.
type gate struct {
	bank.Bank
	entered chan struct{}
	open    chan struct{}
}

func newGate() *gate {
	return &gate{Bank: newBank(), entered: make(chan struct{}, 100), open: make(chan struct{})}
}

func (g *gate) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	g.entered <- struct{}{}
	select {
	case <-g.open:
		return g.Bank.Balance(ctx, acc)
	case <-ctx.Done():
		return 0, bank.FromContext(ctx, ctx.Err())
	}
}

func TestShutdownLetsCallsFinish(t *testing.T) {
	g := newGate()
	srv := thriftbank.NewServer(g)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	busy := dial(t, l.Addr().String())
	idle := dial(t, l.Addr().String()) // one idle connection, which must not hold Shutdown up
	if _, err := idle.Statement(ctx(t), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"}); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := busy.Balance(ctx(t), ledger.SeedAccount(1))
		got <- err
	}()
	<-g.entered
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx(t)) }()
	// New connections are refused while the call is still running.
	var dialErr error
	for i := 0; i < 100 && dialErr == nil; i++ {
		var nc net.Conn
		if nc, dialErr = net.Dial("tcp", l.Addr().String()); dialErr == nil {
			nc.Close()
			time.Sleep(10 * time.Millisecond)
		}
	}
	if dialErr == nil {
		t.Fatal("the server still accepts connections after Shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a call was running", err)
	default:
	}
	close(g.open)
	if err := <-got; err != nil {
		t.Fatalf("the call in progress at Shutdown failed: %v", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v after Shutdown", err)
	}
	if _, err := idle.Balance(ctx(t), ledger.SeedAccount(1)); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Balance after Shutdown: %v, want unavailable", err)
	}
}

func TestShutdownDeadlineCutsCallsOff(t *testing.T) {
	g := newGate()
	srv := thriftbank.NewServer(g)
	addr := banktest.Serve(t, srv)
	c := dial(t, addr)
	got := make(chan error, 1)
	go func() {
		_, err := c.Balance(ctx(t), ledger.SeedAccount(1))
		got <- err
	}()
	<-g.entered
	sctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a stuck call: %v, want deadline exceeded", err)
	}
	// The handler's context was canceled, so it answers at once; the
	// connection is closed under it.
	if err := <-got; err == nil {
		t.Fatal("the cut-off call succeeded")
	}
}

func TestTimedOutConnectionIsNotReused(t *testing.T) {
	g := newGate()
	addr := banktest.Serve(t, thriftbank.NewServer(g))
	c := dial(t, addr, thriftbank.WithConns(1))
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Balance(short, ledger.SeedAccount(1)); !errors.Is(err, bank.ErrDeadlineExceeded) {
		t.Fatalf("Balance past its deadline: %v, want deadline exceeded", err)
	}
	close(g.open) // the late answer goes to the discarded connection
	<-g.entered
	// With one connection in the pool, a reused connection would read
	// the late answer of the call above.
	for i := 1; i <= 5; i++ {
		st, err := c.Statement(ctx(t), bank.StatementRequest{Account: ledger.SeedAccount(i), Month: "2026-01"})
		if err != nil || st.Account != ledger.SeedAccount(i) {
			t.Fatalf("Statement(%d) = %+v, %v", i, st, err)
		}
		got, err := c.Balance(ctx(t), ledger.SeedAccount(i))
		if err != nil || got != ledger.SeedBalance(i) {
			t.Fatalf("Balance(%d) = %d, %v; want %d", i, got, err, ledger.SeedBalance(i))
		}
	}
}

func TestSmallPoolManyCallers(t *testing.T) {
	addr := banktest.Serve(t, thriftbank.NewServer(newBank()))
	c := dial(t, addr, thriftbank.WithConns(2))
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				i := 1 + (w+k)%10
				got, err := c.Balance(ctx(t), ledger.SeedAccount(i))
				if err == nil && got != ledger.SeedBalance(i) {
					err = errors.New("wrong balance")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestWaitForPoolHonoursDeadline(t *testing.T) {
	g := newGate()
	addr := banktest.Serve(t, thriftbank.NewServer(g))
	t.Cleanup(func() { close(g.open) })
	c := dial(t, addr, thriftbank.WithConns(1))
	go c.Balance(ctx(t), ledger.SeedAccount(1)) // holds the only connection
	<-g.entered
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Statement(short, bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"}); !errors.Is(err, bank.ErrDeadlineExceeded) {
		t.Fatalf("Statement waiting for a connection past its deadline: %v, want deadline exceeded", err)
	}
}

func TestClosedClientAndDeadServer(t *testing.T) {
	addr := banktest.Serve(t, thriftbank.NewServer(newBank()))
	c, err := thriftbank.Dial(ctx(t), addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.Balance(ctx(t), ledger.SeedAccount(1)); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Balance on a closed client: %v, want unavailable", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	if _, err := thriftbank.Dial(ctx(t), dead); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Dial of a closed port: %v, want unavailable", err)
	}
}

func TestProtocolFlagValue(t *testing.T) {
	var p thriftbank.Protocol
	if err := p.Set("compact"); err != nil || p != thriftbank.Compact || p.String() != "compact" {
		t.Fatalf("Set(compact): %v, %v", p, err)
	}
	if err := p.Set("json"); err == nil {
		t.Fatal("Set(json) succeeded")
	}
}

func TestCallTimeout(t *testing.T) {
	g := newGate()
	addr := banktest.Serve(t, thriftbank.NewServer(g, thriftbank.WithMaxCallTimeout(100*time.Millisecond)))
	t.Cleanup(func() { close(g.open) })
	c := dial(t, addr, thriftbank.WithConns(1))
	for i := 0; i < 2; i++ { // the second call runs on a fresh context
		if _, err := c.Balance(ctx(t), ledger.SeedAccount(1)); !errors.Is(err, bank.ErrDeadlineExceeded) {
			t.Fatalf("Balance past the server's call timeout: %v, want deadline exceeded", err)
		}
	}
	if _, err := c.Statement(ctx(t), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"}); err != nil {
		t.Fatalf("Statement after the timed-out calls: %v", err)
	}
}
