package fault

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// echo serves a line echo on l and counts the lines it processed.
func echo(t *testing.T, l net.Listener) *atomic.Int64 {
	var lines atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					s, err := r.ReadString('\n')
					if err != nil {
						return
					}
					lines.Add(1)
					if _, err := c.Write([]byte(s)); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return &lines
}

func dialEcho(t *testing.T, l net.Listener) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func roundTrip(c net.Conn, r *bufio.Reader, s string) (string, error) {
	if _, err := c.Write([]byte(s + "\n")); err != nil {
		return "", err
	}
	got, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

func waitOpen(t *testing.T, l *Listener, n int) {
	for i := 0; i < 200 && l.Open() != n; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if l.Open() != n {
		t.Fatalf("%d connections open, want %d", l.Open(), n)
	}
}

func TestPassThrough(t *testing.T) {
	l, err := Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echo(t, l)
	c, r := dialEcho(t, l)
	for _, s := range []string{"a", "bb", "ccc"} {
		if got, err := roundTrip(c, r, s); err != nil || got != s {
			t.Fatalf("echo %q = %q, %v", s, got, err)
		}
	}
}

func TestDropNextWriteLosesTheResponse(t *testing.T) {
	l, _ := Listen("tcp", "127.0.0.1:0")
	lines := echo(t, l)
	c, r := dialEcho(t, l)
	l.DropNextWrite()
	if _, err := roundTrip(c, r, "lost"); err == nil {
		t.Fatal("response arrived despite the dropped write")
	}
	if lines.Load() != 1 {
		t.Fatalf("server processed %d lines, want 1: the request got through, the response did not", lines.Load())
	}
	waitOpen(t, l, 0)
	// The fault fired once: a new connection works.
	c2, r2 := dialEcho(t, l)
	if got, err := roundTrip(c2, r2, "ok"); err != nil || got != "ok" {
		t.Fatalf("after the fault: %q, %v", got, err)
	}
}

func TestDropNextReadLosesTheRequest(t *testing.T) {
	l, _ := Listen("tcp", "127.0.0.1:0")
	lines := echo(t, l)
	c, r := dialEcho(t, l)
	l.DropNextRead()
	if _, err := roundTrip(c, r, "lost"); err == nil {
		t.Fatal("response arrived despite the dropped read")
	}
	if lines.Load() != 0 {
		t.Fatalf("server processed %d lines, want 0", lines.Load())
	}
	if l.Resets() != 1 {
		t.Fatalf("Resets = %d, want 1", l.Resets())
	}
}

func TestResetAll(t *testing.T) {
	l, _ := Listen("tcp", "127.0.0.1:0")
	echo(t, l)
	var conns []net.Conn
	var readers []*bufio.Reader
	for i := 0; i < 3; i++ {
		c, r := dialEcho(t, l)
		if _, err := roundTrip(c, r, "x"); err != nil {
			t.Fatal(err)
		}
		conns, readers = append(conns, c), append(readers, r)
	}
	if n := l.ResetAll(); n != 3 {
		t.Fatalf("ResetAll reset %d connections, want 3", n)
	}
	for i, c := range conns {
		if _, err := readers[i].ReadByte(); err == nil || (!errors.Is(err, io.EOF) && !isReset(err)) {
			t.Fatalf("conn %d after reset: %v", i, err)
		}
		_ = c
	}
	if l.Open() != 0 {
		t.Fatalf("%d still open", l.Open())
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}

// TestBankDecorator checks the decorator's timing against the ledger:
// a lost request applies nothing, a lost response applies the deposit.
func TestBankDecorator(t *testing.T) {
	l, _ := Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	svc := bank.NewService(ledger.NewMemory(2))
	plan := []Kind{LoseRequest, LoseResponse, None}
	i := 0
	f := Wrap(svc, func(Call) Kind { i++; return plan[i-1] }, l, nil)
	ctx := context.Background()
	req := bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 5, IdempotencyKey: "k"}
	if _, err := f.Deposit(ctx, req); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("lost request: %v", err)
	}
	if m, _ := svc.Balance(ctx, req.Account); m != ledger.SeedBalance(1) {
		t.Fatal("a lost request was applied")
	}
	f.Deposit(ctx, req) // lost response: applied, the connection reset
	if m, _ := svc.Balance(ctx, req.Account); m != ledger.SeedBalance(1)+5 {
		t.Fatal("a lost response's deposit was not applied")
	}
	r, err := f.Deposit(ctx, req)
	if err != nil || !r.Replayed {
		t.Fatalf("retry: %+v, %v; want the replay", r, err)
	}
	if lr, lp := f.Lost(); lr != 1 || lp != 1 {
		t.Fatalf("Lost = %d, %d", lr, lp)
	}
}

func TestPlans(t *testing.T) {
	p := FirstDepositOfEachKey()
	seq := []Kind{p(Call{Op: bank.OpDeposit, Key: "a"}), p(Call{Op: bank.OpDeposit, Key: "a"}), p(Call{Op: bank.OpBalance}), p(Call{Op: bank.OpDeposit, Key: "b"})}
	want := []Kind{LoseResponse, None, None, LoseResponse}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("FirstDepositOfEachKey: %v, want %v", seq, want)
		}
	}
	r := Random(1, 0.2, 0.3)
	var n [len(kindNames)]int
	for i := 0; i < 10000; i++ {
		n[r(Call{})]++
	}
	if n[LoseRequest] < 1500 || n[LoseRequest] > 2500 || n[LoseResponse] < 2500 || n[LoseResponse] > 3500 {
		t.Fatalf("Random(0.2, 0.3) gave %v in 10000", n)
	}
}
