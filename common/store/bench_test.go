package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

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
