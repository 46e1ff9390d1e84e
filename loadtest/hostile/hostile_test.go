package hostile_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/hostile"
	"github.com/igbank/igbank/loadtest/server"
	"github.com/igbank/igbank/transports"
)

// The servers of the suite, at test scale: 64 connections, timeouts of
// half a second, idle connections closed after 2 s.
var testServer = transport.ServerConfig{
	MaxConns: 64,
	Timeouts: transport.Timeouts{Read: 500 * time.Millisecond, Write: 500 * time.Millisecond, Idle: 2 * time.Second, FirstRequest: time.Second},
}

// budget is how far the test process's live heap may rise during an
// attack at test scale. The largest holders are HTTP/2's: 4 connections ×
// 100 statement pages of 60 KB held by a closed window is 24 MiB. The
// attacker and the well-behaved client share the process.
//
// Raw sockets have twice the room against readers that never read: a
// connection runs up to 64 calls at once, each waiting with its reply
// once 1 MiB is queued (raw-sockets/README.md, "Limits and budget"); 8
// such connections held 50 MiB.
func budget(transport string, c hostile.Class) uint64 {
	if transport == "raw" && c == hostile.SlowReader {
		return 128 << 20
	}
	return 64 << 20
}

// TestHostile runs every attack class against every transport's server,
// through real sockets, at test scale, and asserts that the server keeps
// serving a well-behaved client during and after the attack, that its
// heap stays within the budget and comes back, and that no balance
// changed. (That a reader that never reads is cut off at the write timeout
// is each transport's banktest.RunSlowReader, with small socket buffers;
// here the replies may still fit in the kernel's.)
func TestHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("the hostile suite takes about a minute")
	}
	for _, d := range transports.All {
		v := d.Variants[0]
		t.Run(v.Name, func(t *testing.T) {
			mem := ledger.NewMemory(banktest.Accounts)
			svc := bank.NewService(mem)
			acc, month := ledger.SeedAccount(1), bank.MonthOf(time.Now())
			seed(t, svc, acc)
			total := balances(t, svc)
			srv, err := server.Start(v, "127.0.0.1:0", svc, testServer)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			target := hostile.Target{Variant: v, HTTP2: d.HTTP2, Addr: srv.Addr(), Account: acc, Month: month, Memory: heap}
			reqs, err := hostile.Capture(context.Background(), v, srv.Addr(), acc, month)
			if err != nil {
				t.Fatal(err)
			}
			target.Requests = &reqs
			for _, class := range hostile.Classes(d.HTTP2) {
				t.Run(string(class), func(t *testing.T) {
					r := hostile.Run(context.Background(), target, class, hostile.Options{
						Conns:    testConns(class),
						Duration: 2 * time.Second,
						Settle:   10 * time.Second,
					})
					t.Log(describe(r))
					check(t, r)
				})
			}
			if got := balances(t, svc); got != total {
				t.Errorf("balances sum to %d after the attacks, %d before", got, total)
			}
		})
	}
}

func testConns(c hostile.Class) int {
	switch c {
	case hostile.Idle:
		return 3 * testServer.MaxConns
	case hostile.Churn:
		return 2
	case hostile.RapidReset, hostile.StalledWindow, hostile.UnfinishedStreams:
		return 4
	case hostile.SlowReader:
		// A connection stuck writing a reply has a call in progress: it
		// cannot be reclaimed, and holds its slot until the write timeout
		// cuts it; 8 leave room for the client, and keep the replies they
		// hold within the budget.
		return 8
	default:
		return testServer.MaxConns
	}
}

func check(t *testing.T, r hostile.Result) {
	t.Helper()
	if r.Err != "" {
		t.Fatal(r.Err)
	}
	if r.Answered == 0 {
		t.Errorf("%s: the well-behaved client got no answer in %d calls during the attack", r.Class, r.Probes)
	}
	if !r.AnsweredAfter {
		t.Errorf("%s: the well-behaved client got no answer after the attack", r.Class)
	}
	if b := budget(r.Transport, r.Class); r.Peak.LiveHeap > r.Before.LiveHeap+b {
		t.Errorf("%s: the live heap rose from %d to %d MiB, over the budget of %d MiB", r.Class, r.Before.LiveHeap>>20, r.Peak.LiveHeap>>20, b>>20)
	}
	if r.Recovered < 0 {
		t.Errorf("%s: the heap did not come back: %d MiB before, %d MiB after", r.Class, r.Before.LiveHeap>>20, r.After.LiveHeap>>20)
	}
}

func describe(r hostile.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: %d conns; answered %d/%d (first after %v, worst %v), after: %v; heap %d→%d→%d MiB, recovered in %v; goroutines %d→%d→%d; opened %d refused %d cut %d goaway %d",
		r.Transport, r.Class, r.Conns, r.Answered, r.Probes, r.FirstAnswer.Round(time.Millisecond), r.Worst.Round(time.Millisecond), r.AnsweredAfter,
		r.Before.LiveHeap>>20, r.Peak.LiveHeap>>20, r.After.LiveHeap>>20, r.Recovered.Round(time.Millisecond),
		r.Before.Goroutines, r.Peak.Goroutines, r.After.Goroutines, r.Opened, r.Refused, r.Cut, r.GoAway)
	return b.String()
}

// heap is the memory of this process: the server, the attacker and the
// client share it.
func heap(settled bool) (hostile.Memory, error) {
	if settled {
		runtime.GC()
		runtime.GC() // the second empties sync.Pool's victim cache
	}
	p := server.ReadProcStats()
	return hostile.Memory{LiveHeap: p.LiveHeapBytes, RSSBytes: p.RSSBytes, Goroutines: p.Goroutines}, nil
}

// seed gives acc a thousand deposits this month: statements of a full
// page for the attacks that ask for large replies.
func seed(t *testing.T, b bank.Bank, acc bank.AccountNo) {
	t.Helper()
	for i := range 1000 {
		if _, err := b.Deposit(context.Background(), bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: fmt.Sprintf("seed-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func balances(t *testing.T, b bank.Bank) bank.Money {
	t.Helper()
	var sum bank.Money
	for i := range banktest.Accounts {
		m, err := b.Balance(context.Background(), ledger.SeedAccount(i+1))
		if err != nil {
			t.Fatal(err)
		}
		sum += m
	}
	return sum
}
