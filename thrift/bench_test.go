package thriftbank_test

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
	thriftbank "github.com/igbank/igbank/thrift"
)

// The benchmarks run a real server on loopback in the same process, so
// their allocs/op count both sides; BenchmarkServerSide (internal) counts
// the server alone. Each has a sub-benchmark per protocol, and "seq" (one
// caller) and "par64" (64 concurrent callers). Besides ns/op they report
// calls/s, the p50 and p99 latency of a call and the process's CPU time
// per call (banktest.BenchCallers).
//
//	go test -run '^$' -bench . -benchmem -count 5 .

const benchAccounts = 1000

var benchAccountNos = func() []bank.AccountNo {
	accs := make([]bank.AccountNo, benchAccounts)
	for i := range accs {
		accs[i] = ledger.SeedAccount(i + 1)
	}
	return accs
}()

func BenchmarkBalance(b *testing.B) { benchmark(b, balance) }

// BenchmarkBalanceTLS is BenchmarkBalance over mutual TLS, as the teller.
func BenchmarkBalanceTLS(b *testing.B) { benchmarkOver(b, true, balance) }

func balance(ctx context.Context, c bank.Bank, i int) error {
	_, err := c.Balance(ctx, benchAccountNos[i%benchAccounts])
	return err
}

// BenchmarkStatement asks for a month with 10 transactions.
func BenchmarkStatement(b *testing.B) {
	month := bank.MonthOf(time.Now())
	benchmark(b, func(ctx context.Context, c bank.Bank, i int) error {
		_, err := c.Statement(ctx, bank.StatementRequest{Account: benchAccountNos[i%10], Month: month})
		return err
	})
}

// BenchmarkDeposit makes a new deposit each call; making its key costs the
// benchmark one allocation.
func BenchmarkDeposit(b *testing.B) {
	var seq atomic.Int64
	benchmark(b, func(ctx context.Context, c bank.Bank, i int) error {
		key := "bench-" + strconv.FormatInt(seq.Add(1), 10)
		_, err := c.Deposit(ctx, bank.DepositRequest{Account: benchAccountNos[i%benchAccounts], Amount: 1, IdempotencyKey: key})
		return err
	})
}

func benchmark(b *testing.B, op func(ctx context.Context, c bank.Bank, i int) error) {
	benchmarkOver(b, false, op)
}

// benchmarkOver is benchmark, over mutual TLS if secure.
func benchmarkOver(b *testing.B, secure bool, op func(ctx context.Context, c bank.Bank, i int) error) {
	for _, p := range []thriftbank.Protocol{thriftbank.Binary, thriftbank.Compact} {
		b.Run(p.String(), func(b *testing.B) {
			srv := bank.NewService(ledger.NewMemory(benchAccounts))
			// Ten accounts with ten deposits this month, for statements.
			for i := range 100 {
				if _, err := srv.Deposit(context.Background(), bank.DepositRequest{Account: benchAccountNos[i%10], Amount: 100, IdempotencyKey: fmt.Sprint("seed-", i)}); err != nil {
					b.Fatal(err)
				}
			}
			sopts := []thriftbank.ServerOption{thriftbank.WithProtocol(p)}
			copts := []thriftbank.ClientOption{thriftbank.WithClientProtocol(p)}
			if secure {
				pki := banktest.NewPKI(b)
				sopts = append(sopts, thriftbank.WithTLS(pki.ServerTLS(b, true), tlsconf.Limits{}))
				copts = append(copts, thriftbank.WithClientTLS(pki.ClientTLS(b, "teller")))
			}
			addr := banktest.Serve(b, thriftbank.NewServer(srv, sopts...))
			c, err := thriftbank.Dial(context.Background(), addr, copts...)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			call := func(n int) error { return op(ctx, c, n) }
			b.Run("seq", func(b *testing.B) { banktest.BenchCallers(b, 1, call) })
			b.Run("par64", func(b *testing.B) { banktest.BenchCallers(b, 64, call) })
		})
	}
}

// BenchmarkTCPPingPong is the reference for the rounds above: 16 bytes
// each way on a bare loopback TCP connection, one connection per caller,
// no encoding at all. Compare figures only within one run.
func BenchmarkTCPPingPong(b *testing.B) {
	b.Run("seq", func(b *testing.B) { banktest.BenchTCPPingPong(b, 1) })
	b.Run("par64", func(b *testing.B) { banktest.BenchTCPPingPong(b, 64) })
}
