package rawbank

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
)

// trackingListener remembers the server side of every connection, so a
// test can break them.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, nc)
		l.mu.Unlock()
	}
	return nc, err
}

func (l *trackingListener) breakAll() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, nc := range l.conns {
		nc.Close()
	}
	return len(l.conns)
}

func (l *trackingListener) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

func serveOn(t *testing.T, l net.Listener, b bank.Bank, opts ...ServerOption) *Server {
	t.Helper()
	s := NewServer(b, append([]ServerOption{WithLogger(banktest.Logger(t))}, opts...)...)
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// After the server drops every connection, the client reconnects: calls
// succeed again on new connections.
func TestClientReconnects(t *testing.T) {
	tl := &trackingListener{Listener: listen(t)}
	serveOn(t, tl, bank.NewService(ledger.NewMemory(100)))
	c := dialClient(t, tl.Addr().String(), WithConns(2))
	for i := 0; i < 4; i++ {
		stillServes(t, c)
	}
	for round := 1; round <= 3; round++ {
		before := tl.breakAll()
		ok := false
		for try := 0; try < 50 && !ok; try++ {
			_, err := c.Balance(context.Background(), ledger.SeedAccount(5))
			switch {
			case err == nil:
				ok = true
			case errors.Is(err, bank.ErrUnavailable):
				time.Sleep(10 * time.Millisecond) // raced the break: try again
			default:
				t.Fatalf("round %d: %v, want success or unavailable", round, err)
			}
		}
		if !ok || tl.accepted() <= before {
			t.Fatalf("round %d: no call succeeded on a new connection (accepted %d, was %d)", round, tl.accepted(), before)
		}
		for i := 0; i < 4; i++ {
			stillServes(t, c)
		}
	}
}

// A server restarted on the same address is found again; while it is down,
// calls fail with Unavailable.
func TestClientSurvivesServerRestart(t *testing.T) {
	l := listen(t)
	addr := l.Addr().String()
	b := bank.NewService(ledger.NewMemory(100))
	s := NewServer(b)
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	c := dialClient(t, addr, WithConns(1))
	stillServes(t, c)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	_, err := c.Balance(context.Background(), ledger.SeedAccount(5))
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Balance while the server is down: %v, want unavailable", err)
	}
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	serveOn(t, l2, b)
	stillServes(t, c)
}

// Replies come back out of order on one connection, and a reply that comes
// after its caller gave up is dropped without disturbing other calls.
func TestMultiplexingAndLateReplies(t *testing.T) {
	slow := &banktest.Slow{Delay: 300 * time.Millisecond}
	addr := startServer(t, func(b bank.Bank) bank.Bank {
		slow.Bank = b
		return splitBank{slow: slow, fast: b}
	})
	t.Cleanup(slow.Release)
	c := dialClient(t, addr, WithConns(1))

	slowDone := make(chan error, 1)
	go func() {
		_, err := c.Balance(context.Background(), ledger.SeedAccount(1))
		slowDone <- err
	}()
	for i := 0; i < 20; i++ {
		stillServes(t, c) // answered while the slow call is in flight
	}
	select {
	case err := <-slowDone:
		t.Fatalf("slow call finished before the fast ones (%v)", err)
	default:
	}
	if err := <-slowDone; err != nil {
		t.Fatalf("slow call: %v", err)
	}

	// Give up on slow calls; their replies arrive later and are dropped.
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := c.Balance(ctx, ledger.SeedAccount(1))
		cancel()
		if !errors.Is(err, bank.ErrDeadlineExceeded) {
			t.Fatalf("Balance past its deadline: %v", err)
		}
	}
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		stillServes(t, c) // never given a late reply meant for another call
	}
}

func TestClientClose(t *testing.T) {
	addr := startServer(t, nil)
	c, err := Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	stillServes(t, c)
	c.Close()
	if _, err := c.Balance(context.Background(), ledger.SeedAccount(1)); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Balance after Close: %v, want unavailable", err)
	}
}

func TestDialUnreachable(t *testing.T) {
	l := listen(t)
	addr := l.Addr().String()
	l.Close()
	_, err := Dial(context.Background(), addr)
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Dial of a closed port: %v, want unavailable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Dial(ctx, addr); !errors.Is(err, bank.ErrCanceled) {
		t.Fatalf("Dial with a canceled context: %v, want canceled", err)
	}
}

func TestOverlongArgumentsFailLocally(t *testing.T) {
	addr := startServer(t, nil)
	c := dialClient(t, addr)
	long := string(make([]byte, 70_000))
	_, err := c.Deposit(context.Background(), bank.DepositRequest{Account: "000000001", Amount: 1, IdempotencyKey: long})
	if !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("Deposit with a 70,000-byte key: %v", err)
	}
	// Under the u16 limit each, but over the request frame limit together.
	mid := string(make([]byte, 40_000))
	_, err = c.Deposit(context.Background(), bank.DepositRequest{Account: bank.AccountNo(mid), Amount: 1, IdempotencyKey: mid})
	if !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("Deposit of an 80 KB request: %v", err)
	}
	stillServes(t, c)
}

// Shutdown lets a call in flight finish; a Shutdown whose context ends
// first cuts the call off.
func TestShutdown(t *testing.T) {
	for _, graceful := range []bool{true, false} {
		slow := &banktest.Slow{Delay: 300 * time.Millisecond}
		s := NewServer(slow)
		slow.Bank = bank.NewService(ledger.NewMemory(10))
		l := listen(t)
		served := make(chan error, 1)
		go func() { served <- s.Serve(l) }()
		c := dialClient(t, l.Addr().String(), WithConns(1))
		callDone := make(chan error, 1)
		go func() {
			_, err := c.Balance(context.Background(), ledger.SeedAccount(1))
			callDone <- err
		}()
		time.Sleep(100 * time.Millisecond) // let the call reach the server
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if !graceful {
			cancel()
		}
		err := s.Shutdown(ctx)
		cancel()
		callErr := <-callDone
		slow.Release()
		if graceful && (err != nil || callErr != nil) {
			t.Fatalf("graceful: Shutdown = %v, call = %v; want both nil", err, callErr)
		}
		if !graceful && (!errors.Is(err, context.Canceled) || !errors.Is(callErr, bank.ErrUnavailable)) {
			t.Fatalf("forced: Shutdown = %v, call = %v; want canceled and unavailable", err, callErr)
		}
		if err := <-served; err != nil {
			t.Fatalf("Serve: %v", err)
		}
	}
}

// Beyond the connection limit, a new connection is served at once: the
// idle connection of the first client is reclaimed for it (package
// admit), and the first client dials anew on its next call, as it does after an
// idle timeout. (Before the
// admission, the second client waited in the listen backlog.)
func TestConnectionLimit(t *testing.T) {
	addr := startServer(t, nil, WithMaxConns(1))
	first, err := Dial(context.Background(), addr, WithConns(1))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	stillServes(t, first)
	second := dialClient(t, addr, WithConns(1))
	stillServes(t, second)
	// The client finds its connection closed and dials anew, reclaiming
	// second's.
	servedAfterReclaim(t, first)
}

// fakeServer answers every request frame with reply(h).
func fakeServer(t *testing.T, reply func(h Header) []byte) string {
	t.Helper()
	l := listen(t)
	t.Cleanup(func() { l.Close() })
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(5 * time.Second))
				fr := newFrameReader(nc, 4096, MaxRequestFrame)
				for {
					h, _, err := fr.next()
					if err != nil {
						return
					}
					if _, err := nc.Write(reply(h)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestClientRejectsBadReplies(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply func(h Header) []byte
		want  *bank.Error
	}{
		{"garbage", func(Header) []byte { return []byte("HTTP/1.1 400 Bad Request\r\n\r\n") }, bank.ErrUnavailable},
		{"bad checksum", func(h Header) []byte {
			b := finishFrame(appendBalanceReply(beginFrame(nil, h.Op|ReplyBit, bank.OK), 5), h.ID, 0)
			b[len(b)-1] ^= 1
			return b
		}, bank.ErrUnavailable},
		{"request op", func(h Header) []byte {
			return finishFrame(appendBalanceReply(beginFrame(nil, h.Op, bank.OK), 5), h.ID, 0)
		}, bank.ErrUnavailable},
		{"short payload", func(h Header) []byte {
			return finishFrame(append(beginFrame(nil, h.Op|ReplyBit, bank.OK), 1, 2), h.ID, 0)
		}, bank.ErrInternal},
		{"wrong op", func(h Header) []byte {
			return finishFrame(appendBalanceReply(beginFrame(nil, OpDeposit|ReplyBit, bank.OK), 5), h.ID, 0)
		}, bank.ErrInternal},
		{"unknown status", func(h Header) []byte {
			return finishFrame(append(beginFrame(nil, h.Op|ReplyBit, 200), "from the future"...), h.ID, 0)
		}, bank.ErrInternal},
		{"goodbye naming the call", func(h Header) []byte {
			return finishFrame(append(beginFrame(nil, OpGoodbye, bank.PermissionDenied), "go away"...), h.ID, 0)
		}, bank.ErrPermissionDenied},
		{"goodbye", func(h Header) []byte {
			return finishFrame(beginFrame(nil, OpGoodbye, bank.InvalidArgument), 0, 0)
		}, bank.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialClient(t, fakeServer(t, tc.reply), WithConns(1))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := c.Balance(ctx, ledger.SeedAccount(1))
			if !errors.Is(err, tc.want) || (tc.want != bank.ErrInvalidArgument && errors.Is(err, bank.ErrInvalidArgument)) {
				t.Fatalf("got %v, want %v", err, tc.want.Code)
			}
		})
	}
}

// bigStatements answers every Statement with n copies of one transaction.
type bigStatements struct {
	bank.Bank
	n int
}

func (b bigStatements) Statement(_ context.Context, req bank.StatementRequest) (bank.Statement, error) {
	tx := bank.Transaction{ID: 1, Time: time.Now().UTC(), Amount: 1, BalanceAfter: 2, IdempotencyKey: strings.Repeat("k", 60)}
	st := bank.Statement{Account: req.Account, Month: req.Month, Transactions: make([]bank.Transaction, b.n)}
	for i := range st.Transactions {
		st.Transactions[i] = tx
	}
	return st, nil
}

// A statement larger than the read buffer comes through whole; one larger
// than the reply frame limit becomes an internal error, and the connection
// goes on.
func TestLargeStatements(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want error
	}{{2_000, nil}, {200_000, bank.ErrInternal}, {3, nil}} {
		addr := startServer(t, func(b bank.Bank) bank.Bank { return bigStatements{b, tc.n} })
		c := dialClient(t, addr, WithConns(1))
		st, err := c.Statement(context.Background(), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-11"})
		if tc.want != nil {
			if !errors.Is(err, tc.want) {
				t.Fatalf("statement of %d transactions: %v, want %v", tc.n, err, tc.want)
			}
		} else if err != nil || len(st.Transactions) != tc.n || st.Transactions[tc.n-1].IdempotencyKey != strings.Repeat("k", 60) {
			t.Fatalf("statement of %d transactions: got %d, %v", tc.n, len(st.Transactions), err)
		}
		stillServes(t, c)
	}
}

// A server that accepts but never reads fills the connection's buffers;
// callers still get their deadline error on time instead of blocking in a
// write.
func TestDeadlinesHoldAgainstAStuckServer(t *testing.T) {
	l := listen(t)
	t.Cleanup(func() { l.Close() })
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, nc := range conns {
			nc.Close()
		}
	})
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc) // never read
			mu.Unlock()
		}
	}()
	c := dialClient(t, l.Addr().String(), WithConns(1))
	key := strings.Repeat("k", 60_000) // near the frame limit: buffers fill fast
	const callers = 200
	var wg sync.WaitGroup
	start := time.Now()
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err := c.Deposit(ctx, bank.DepositRequest{Account: "000000001", Amount: 1, IdempotencyKey: key})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("callers with a 300ms deadline took %v in all", elapsed)
	}
	for err := range errs {
		if !errors.Is(err, bank.ErrDeadlineExceeded) && !errors.Is(err, bank.ErrUnavailable) {
			t.Fatalf("got %v, want deadline exceeded (or unavailable once the queue is full)", err)
		}
	}
}
