package rawbank_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

// The benchmarks run a client against a real server on loopback in the
// same process, so allocs/op counts both sides. Each operation runs
// sequentially (one call at a time), in parallel with GOMAXPROCS callers,
// and with 64 callers (as in FIELD-NOTES.md).

// benchClient serves a fresh bank, over mutual TLS if secure, and returns
// a client of it (the teller, with TLS) and the bank.
func benchClient(b *testing.B, secure bool) (*rawbank.Client, bank.Bank) {
	b.Helper()
	srv := bank.NewService(ledger.NewMemory(ledger.DefaultAccounts))
	var sopts []rawbank.ServerOption
	var copts []rawbank.ClientOption
	if secure {
		p := banktest.NewPKI(b)
		sopts = append(sopts, rawbank.WithTLS(p.ServerTLS(b, true), tlsconf.Limits{}))
		copts = append(copts, rawbank.WithClientTLS(p.ClientTLS(b, "teller")))
	}
	addr := banktest.Serve(b, rawbank.NewServer(srv, sopts...))
	c, err := rawbank.Dial(context.Background(), addr, copts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c, srv
}

// run runs op as a sequential, a parallel (GOMAXPROCS callers) and a
// 64-caller benchmark; op gets a call number unique across goroutines,
// below b.N. The sequential and 64-caller runs also report calls/s and
// latency percentiles (banktest.BenchCallers).
func run(b *testing.B, setup func(b *testing.B, c *rawbank.Client, srv bank.Bank), op func(c *rawbank.Client, i int) error) {
	runOver(b, false, setup, op)
}

// runOver is run, over mutual TLS if secure.
func runOver(b *testing.B, secure bool, setup func(b *testing.B, c *rawbank.Client, srv bank.Bank), op func(c *rawbank.Client, i int) error) {
	for _, mode := range []struct {
		name    string
		callers int // 0: b.RunParallel's GOMAXPROCS goroutines
	}{{"sequential", 1}, {"parallel", 0}, {"parallel64", 64}} {
		b.Run(mode.name, func(b *testing.B) {
			c, srv := benchClient(b, secure)
			if setup != nil {
				setup(b, c, srv)
			}
			if mode.callers > 0 {
				banktest.BenchCallers(b, mode.callers, func(i int) error { return op(c, i) })
				return
			}
			b.ReportAllocs()
			b.ResetTimer()
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(c, int(n.Add(1))-1); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

var ctx = context.Background()

// accounts are the precomputed account numbers, so that the benchmarks
// count the transport's allocations, not fmt.Sprintf's.
var accounts = func() []bank.AccountNo {
	a := make([]bank.AccountNo, ledger.DefaultAccounts)
	for i := range a {
		a[i] = ledger.SeedAccount(i + 1)
	}
	return a
}()

func BenchmarkBalance(b *testing.B) {
	run(b, nil, func(c *rawbank.Client, i int) error {
		_, err := c.Balance(ctx, accounts[i%len(accounts)])
		return err
	})
}

// Balance over mutual TLS (the principal is settled once per connection,
// so a call costs what TLS's encryption costs).
func BenchmarkBalanceTLS(b *testing.B) {
	runOver(b, true, nil, func(c *rawbank.Client, i int) error {
		_, err := c.Balance(ctx, accounts[i%len(accounts)])
		return err
	})
}

// Balance with a caller's deadline: the server then runs each call under a
// context with that timeout, which costs a few allocations.
func BenchmarkBalanceDeadline(b *testing.B) {
	dctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	run(b, nil, func(c *rawbank.Client, i int) error {
		_, err := c.Balance(dctx, accounts[i%len(accounts)])
		return err
	})
}

// Statements of the first 100 accounts, each with 3 deposits this month.
func BenchmarkStatement(b *testing.B) {
	var month bank.Month
	setup := func(b *testing.B, c *rawbank.Client, srv bank.Bank) {
		for i := 0; i < 100; i++ {
			for k := 0; k < 3; k++ {
				r := bank.DepositRequest{Account: accounts[i], Amount: 100, IdempotencyKey: fmt.Sprintf("setup-%d-%d", i, k)}
				if _, err := srv.Deposit(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		}
		month = bank.MonthOf(time.Now())
		if st, err := c.Statement(ctx, bank.StatementRequest{Account: accounts[0], Month: month}); err != nil || len(st.Transactions) != 3 {
			b.Fatalf("statement %+v, %v; want 3 transactions", st, err)
		}
	}
	run(b, setup, func(c *rawbank.Client, i int) error {
		_, err := c.Statement(ctx, bank.StatementRequest{Account: accounts[i%100], Month: month})
		return err
	})
}

// Deposits with a fresh key each (keys made before the timer starts).
func BenchmarkDeposit(b *testing.B) {
	var keys []string
	setup := func(b *testing.B, _ *rawbank.Client, _ bank.Bank) {
		keys = make([]string, b.N)
		for i := range keys {
			keys[i] = "bench-" + strconv.Itoa(i)
		}
	}
	run(b, setup, func(c *rawbank.Client, i int) error {
		_, err := c.Deposit(ctx, bank.DepositRequest{Account: accounts[i%len(accounts)], Amount: 1, IdempotencyKey: keys[i]})
		return err
	})
}

// BenchmarkTCPPingPong is the reference for noisy machines: one 16-byte
// message and its echo over loopback, with nothing else, one caller
// (banktest.BenchTCPPingPong, which also reports its latency percentiles).
func BenchmarkTCPPingPong(b *testing.B) {
	banktest.BenchTCPPingPong(b, 1)
}
