package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store/postgres/pgtest"
)

// BenchmarkStore measures each store in process (no transport): Deposit
// and Balance, sequential and with b.RunParallel (GOMAXPROCS×-cpu
// goroutines; use -cpu 1,64 for 1 and 64 callers... see docs/stores.md).
func BenchmarkStore(b *testing.B) {
	for _, tc := range []struct {
		name string
		spec func(b *testing.B) string
	}{
		{"memory", func(*testing.B) string { return "memory" }},
		{"sqlite", func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "b.db") }},
		{"sqlite-full", func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "b.db") + "?synchronous=full" }},
		{"postgres", func(b *testing.B) string { return pgtest.Schema(b) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := opened(b, tc.spec(b), ledger.DefaultAccounts)
			ctx := context.Background()
			var seq atomic.Int64
			b.Run("Deposit", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						n := seq.Add(1)
						_, err := l.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1 + int(n%ledger.DefaultAccounts)), Amount: 1, IdempotencyKey: fmt.Sprintf("bench-%s-%d", tc.name, n)})
						if err != nil {
							b.Fatal(err)
						}
					}
				})
			})
			b.Run("Balance", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						n := seq.Add(1)
						if _, err := l.Balance(ctx, ledger.SeedAccount(1+int(n%ledger.DefaultAccounts))); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		})
	}
}

// BenchmarkStatementPage reads one page of a month of 20,000 transactions
// from each store, at the start of the month and near its end: keyset
// pages cost the same wherever they are.
//
//	go test -run '^$' -bench StatementPage -benchmem ./store/
func BenchmarkStatementPage(b *testing.B) {
	const n = 20_000
	for _, tc := range []struct {
		name string
		spec func(b *testing.B) string
	}{
		{"memory", func(*testing.B) string { return "memory" }},
		{"sqlite", func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "b.db") }},
		{"postgres", func(b *testing.B) string { return pgtest.Schema(b) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := opened(b, tc.spec(b), 10)
			svc := bank.NewService(l)
			ctx := context.Background()
			acc := ledger.SeedAccount(1)
			var seq atomic.Int64
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := seq.Add(1); k <= n; k = seq.Add(1) {
						if _, err := svc.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: fmt.Sprint("page-", k)}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			month := bank.MonthOf(time.Now())
			for _, size := range []int{100, bank.MaxPageSize} {
				// The token of the last page: page through to it.
				req := bank.StatementRequest{Account: acc, Month: month, PageSize: size}
				for {
					st, err := svc.Statement(ctx, req)
					if err != nil {
						b.Fatalf("seek: %v", err)
					}
					if st.NextPageToken == "" {
						break
					}
					req.PageToken = st.NextPageToken
				}
				for _, at := range []struct {
					name  string
					token string
				}{{"first", ""}, {"last", req.PageToken}} {
					b.Run(fmt.Sprintf("size=%d/%s", size, at.name), func(b *testing.B) {
						req := bank.StatementRequest{Account: acc, Month: month, PageSize: size, PageToken: at.token}
						for b.Loop() {
							p, err := svc.Statement(ctx, req)
							if err != nil || len(p.Transactions) != size {
								b.Fatalf("page: %d transactions, %v", len(p.Transactions), err)
							}
						}
					})
				}
			}
		})
	}
}
