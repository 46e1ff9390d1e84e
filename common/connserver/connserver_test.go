package connserver_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/connserver"
)

// lineConn answers each line with "ok". A line "wait" is a call that
// runs until the test opens gate (or the connection is closed). It serves
// one call at a time and, once draining, stops after the call in flight.
type lineConn struct {
	srv     func() *connserver.Server
	nc      net.Conn
	gate    <-chan struct{}
	entered chan<- struct{}
	closed  chan struct{}
	once    sync.Once
}

func (c *lineConn) Serve() {
	defer c.Close()
	br := bufio.NewReader(c.nc)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.TrimSpace(line) == "wait" {
			c.entered <- struct{}{}
			select {
			case <-c.gate:
			case <-c.closed:
				return
			}
		}
		if _, err := io.WriteString(c.nc, "ok\n"); err != nil {
			return
		}
		if c.srv().ShuttingDown() {
			return
		}
	}
}

// Drain wakes a reader waiting for the next line; a call in flight goes on.
func (c *lineConn) Drain() { c.nc.SetReadDeadline(time.Unix(1, 0)) }

func (c *lineConn) Close() {
	c.once.Do(func() { close(c.closed) })
	c.nc.Close()
}

type fixture struct {
	srv     *connserver.Server
	addr    string
	serve   chan error
	gate    chan struct{}
	entered chan struct{}
	aborted atomic.Bool
	logged  atomic.Int32
}

func start(t *testing.T, cfg connserver.Config) *fixture {
	t.Helper()
	f := &fixture{serve: make(chan error, 1), gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	cfg.NewConn = func(nc net.Conn) connserver.Conn {
		return &lineConn{srv: func() *connserver.Server { return f.srv }, nc: nc, gate: f.gate, entered: f.entered, closed: make(chan struct{})}
	}
	cfg.Abort = func() { f.aborted.Store(true) }
	cfg.Logger = slog.New(countingHandler{&f.logged})
	f.srv = connserver.New(cfg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	go func() { f.serve <- f.srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		f.srv.Shutdown(ctx)
	})
	return f
}

func (f *fixture) dial(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc, bufio.NewReader(nc)
}

// call sends line and returns the answer, or the read error.
func call(t *testing.T, nc net.Conn, br *bufio.Reader, line string, wait time.Duration) (string, error) {
	t.Helper()
	if _, err := io.WriteString(nc, line+"\n"); err != nil {
		return "", err
	}
	return answer(nc, br, wait)
}

func answer(nc net.Conn, br *bufio.Reader, wait time.Duration) (string, error) {
	nc.SetReadDeadline(time.Now().Add(wait))
	s, err := br.ReadString('\n')
	return strings.TrimSpace(s), err
}

func mustCall(t *testing.T, nc net.Conn, br *bufio.Reader) {
	t.Helper()
	if got, err := call(t, nc, br, "ping", 5*time.Second); err != nil || got != "ok" {
		t.Fatalf("call: %q, %v", got, err)
	}
}

// wantClosed reads until the server closes nc.
func wantClosed(t *testing.T, nc net.Conn, br *bufio.Reader) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if s, err := br.ReadString('\n'); err == nil || isTimeout(err) {
		t.Fatalf("read %q, %v; want the connection closed", s, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func shutdown(f *fixture, ctx context.Context) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f.srv.Shutdown(ctx) }()
	return ch
}

func recv(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

func TestAcceptAndServe(t *testing.T) {
	f := start(t, connserver.Config{})
	for range 3 {
		nc, br := f.dial(t)
		mustCall(t, nc, br)
		mustCall(t, nc, br)
	}
	if err := recv(t, shutdown(f, context.Background()), "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := recv(t, f.serve, "Serve"); err != nil {
		t.Fatalf("Serve after Shutdown: %v, want nil", err)
	}
}

func TestLimitWaitsInBacklog(t *testing.T) {
	f := start(t, connserver.Config{MaxConns: 1})
	first, br1 := f.dial(t)
	mustCall(t, first, br1)
	second, br2 := f.dial(t) // connects, but is not accepted yet
	if got, err := call(t, second, br2, "ping", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("call past the limit: %q, %v; want no answer yet", got, err)
	}
	first.Close()
	if got, err := answer(second, br2, 5*time.Second); err != nil || got != "ok" {
		t.Fatalf("call once the first closed: %q, %v", got, err)
	}
}

func TestLimitRejects(t *testing.T) {
	f := start(t, connserver.Config{MaxConns: 1, RejectOverLimit: true})
	first, br1 := f.dial(t)
	mustCall(t, first, br1)
	second, br2 := f.dial(t)
	wantClosed(t, second, br2)
	mustCall(t, first, br1)
	first.Close()
	// The slot frees once the server sees the close.
	for i := 0; ; i++ {
		nc, br := f.dial(t)
		if got, err := call(t, nc, br, "ping", 5*time.Second); err == nil && got == "ok" {
			return
		}
		if i == 100 {
			t.Fatal("no connection served after the first closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShutdownDrains(t *testing.T) {
	f := start(t, connserver.Config{})
	busy, brBusy := f.dial(t)
	idle, brIdle := f.dial(t)
	mustCall(t, idle, brIdle)
	io.WriteString(busy, "wait\n")
	<-f.entered
	done := shutdown(f, context.Background())
	wantClosed(t, idle, brIdle) // drained at once: no call in flight
	if err := recv(t, f.serve, "Serve"); err != nil {
		t.Fatalf("Serve after Shutdown: %v, want nil", err)
	}
	if _, err := net.Dial("tcp", f.addr); err == nil {
		t.Fatal("dial after Shutdown succeeded; want the listener closed")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(f.gate)
	if got, err := answer(busy, brBusy, 5*time.Second); err != nil || got != "ok" {
		t.Fatalf("call in flight during Shutdown: %q, %v; want it answered", got, err)
	}
	wantClosed(t, busy, brBusy)
	if err := recv(t, done, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v, want nil", err)
	}
	if f.aborted.Load() {
		t.Fatal("Abort called though every connection drained")
	}
}

func TestShutdownDeadline(t *testing.T) {
	f := start(t, connserver.Config{})
	busy, brBusy := f.dial(t)
	io.WriteString(busy, "wait\n")
	<-f.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := recv(t, shutdown(f, ctx), "Shutdown"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	if !f.aborted.Load() {
		t.Fatal("Abort not called when Shutdown gave up")
	}
	wantClosed(t, busy, brBusy) // cut off, never answered
	if err := recv(t, f.serve, "Serve"); err != nil {
		t.Fatalf("Serve after Shutdown: %v, want nil", err)
	}
}

func TestServeAfterShutdown(t *testing.T) {
	f := start(t, connserver.Config{})
	if err := recv(t, shutdown(f, context.Background()), "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Serve(l); err != nil {
		t.Fatalf("Serve after Shutdown: %v, want nil", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept on the listener after Serve: %v, want it closed", err)
	}
}

// flakyListener fails its first Accept with a transient error.
type flakyListener struct {
	net.Listener
	failed atomic.Bool
}

var errTransient = errors.New("accept: too many open files")

func (l *flakyListener) Accept() (net.Conn, error) {
	if !l.failed.Swap(true) {
		return nil, errTransient
	}
	return l.Listener.Accept()
}

func TestAcceptErrorRetried(t *testing.T) {
	f := start(t, connserver.Config{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go f.srv.Serve(&flakyListener{Listener: l})
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	mustCall(t, nc, bufio.NewReader(nc))
	if f.logged.Load() != 1 {
		t.Fatalf("%d accept errors logged, want 1", f.logged.Load())
	}
}

func TestListenerClosedElsewhere(t *testing.T) {
	srv := connserver.New(connserver.Config{NewConn: func(nc net.Conn) connserver.Conn { panic("no connection expected") }})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve := make(chan error, 1)
	go func() { serve <- srv.Serve(l) }()
	l.Close() // not by Shutdown: Serve reports it

	if err := recv(t, serve, "Serve"); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve with its listener closed elsewhere: %v, want net.ErrClosed", err)
	}
}

// countingHandler counts the records logged through it.
type countingHandler struct{ n *atomic.Int32 }

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }
