package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store/postgres"
	"github.com/igbank/igbank/common/store/postgres/pgtest"
)

// BenchmarkPoolSize compares pool sizes for deposits under many callers
// (run with -cpu 64 for 64 callers): a deposit waits mostly for its
// commit's fsync, and PostgreSQL's group commit flushes the commits of all
// the connections waiting at once, so more connections mean more deposits
// per fsync, up to what the server's cores sustain.
func BenchmarkPoolSize(b *testing.B) {
	for _, size := range []int{8, 16, 32} {
		b.Run(fmt.Sprintf("conns=%d", size), func(b *testing.B) {
			ctx := context.Background()
			s, err := postgres.Open(ctx, fmt.Sprintf("%s&pool_max_conns=%d", pgtest.Schema(b), size), ledger.DefaultAccounts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var seq atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					if _, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1 + int(n%ledger.DefaultAccounts)), Amount: 1, IdempotencyKey: fmt.Sprint("pool-", n)}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
