package banktest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/internal/cputime"
	"github.com/igbank/igbank/common/ledger"
)

// BenchAccounts is how many accounts the server of Benchmark is seeded
// with, the default of the server programs.
const BenchAccounts = ledger.DefaultAccounts

// BenchStatementTxs is how many transactions the account that Statement
// benchmarks read has in the current month.
const BenchStatementTxs = 10

// BenchParallelism is b.SetParallelism's factor for the Parallel
// benchmarks: GOMAXPROCS times this many goroutines call at once, enough to
// keep a multiplexing transport busy on a small machine.
const BenchParallelism = 16

// benchKeys numbers the deposits of every Benchmark in the process, so
// that every deposit carries a fresh idempotency key.
var benchKeys atomic.Uint64

// Benchmark measures each operation through a client made by newClient
// (for a transport: Transport(newServer, dial), a real server on
// loopback), one call at a time and from b.RunParallel's goroutines:
//
//	Balance/Sequential  Balance/Parallel      (Parallel: GOMAXPROCS×BenchParallelism callers)
//	Statement/Sequential  Statement/Parallel  (a month with BenchStatementTxs transactions)
//	Deposit/Sequential  Deposit/Parallel      (a fresh key and the next account each call)
//
// It reports allocations (what b.ReportAllocs counts: the client's and,
// when the server runs in the same process, the server's too) and
// cpu-ns/op, the CPU time of the whole process per call (client and
// server, garbage collector included), steadier than ns/op on a shared
// machine. A transport
// module calls it from one Benchmark function; run it with
// go test -run '^$' -bench . -benchmem.
func Benchmark(b *testing.B, newClient Factory) {
	srv := bank.NewService(ledger.NewMemory(BenchAccounts))
	c := newClient(b, srv)
	accounts := make([]bank.AccountNo, BenchAccounts)
	for i := range accounts {
		accounts[i] = ledger.SeedAccount(i + 1)
	}
	ctx := context.Background()
	stAcc := accounts[BenchAccounts-1]
	month := bank.MonthOf(time.Now())
	for k := 0; k < BenchStatementTxs; k++ {
		req := bank.DepositRequest{Account: stAcc, Amount: 100, IdempotencyKey: benchKey()}
		if _, err := c.Deposit(ctx, req); err != nil {
			b.Fatalf("seeding the statement: %v", err)
		}
	}
	balance := func(n uint64) error {
		_, err := c.Balance(ctx, accounts[n%uint64(len(accounts))])
		return err
	}
	statement := func(uint64) error {
		st, err := c.Statement(ctx, bank.StatementRequest{Account: stAcc, Month: month})
		if err == nil && len(st.Transactions) < BenchStatementTxs {
			err = fmt.Errorf("statement has %d transactions, want %d or more", len(st.Transactions), BenchStatementTxs)
		}
		return err
	}
	deposit := func(n uint64) error {
		req := bank.DepositRequest{Account: accounts[n%uint64(len(accounts))], Amount: 1, IdempotencyKey: benchKey()}
		_, err := c.Deposit(ctx, req)
		return err
	}
	for _, op := range []struct {
		name string
		call func(n uint64) error
	}{{"Balance", balance}, {"Statement", statement}, {"Deposit", deposit}} {
		b.Run(op.name, func(b *testing.B) {
			b.Run("Sequential", func(b *testing.B) {
				b.ReportAllocs()
				defer cputime.Start(b)()
				n := uint64(0)
				for b.Loop() {
					if err := op.call(n); err != nil {
						b.Fatal(err)
					}
					n++
				}
			})
			b.Run("Parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(BenchParallelism)
				defer cputime.Start(b)()
				var next atomic.Uint64
				b.RunParallel(func(pb *testing.PB) {
					n := next.Add(1) * 7919 // goroutines start on different accounts
					for pb.Next() {
						if err := op.call(n); err != nil {
							b.Error(err)
							return
						}
						n++
					}
				})
			})
		})
	}
}

func benchKey() string {
	return "bench-" + strconv.FormatUint(benchKeys.Add(1), 36)
}
