package ledger

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/internal/cputime"
)

// The ledger alone, without a transport or the service's validation:
//
//	cd common && go test -run '^$' -bench Memory -benchmem -count 5 ./ledger/
//
// Each has a Sequential and a Parallel (b.RunParallel, GOMAXPROCS
// goroutines) variant; calls spread over every seeded account, as the
// transport benchmarks do. Besides ns/op each reports cpu-ns/op, the CPU
// time of the whole process (garbage collector included) per operation,
// which is steadier than ns/op on a busy machine.

func benchAccounts() []bank.AccountNo {
	accs := make([]bank.AccountNo, DefaultAccounts)
	for i := range accs {
		accs[i] = SeedAccount(i + 1)
	}
	return accs
}

func benchBoth(b *testing.B, op func(n uint64) error) {
	b.Run("Sequential", func(b *testing.B) {
		b.ReportAllocs()
		defer cputime.Start(b)()
		n := uint64(0)
		for b.Loop() {
			if err := op(n); err != nil {
				b.Fatal(err)
			}
			n++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		defer cputime.Start(b)()
		var next atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			n := next.Add(1) * 7919
			for pb.Next() {
				if err := op(n); err != nil {
					b.Error(err)
					return
				}
				n++
			}
		})
	})
}

func BenchmarkMemoryBalance(b *testing.B) {
	m, accs := NewMemory(DefaultAccounts), benchAccounts()
	benchBoth(b, func(n uint64) error {
		_, err := m.Balance(bg, accs[n%uint64(len(accs))])
		return err
	})
}

// BenchmarkMemoryDeposit makes a fresh key for every deposit; building it
// (strconv) is part of the figure, as a transport's decoding would be.
func BenchmarkMemoryDeposit(b *testing.B) {
	m, accs := NewMemory(DefaultAccounts), benchAccounts()
	var keys atomic.Uint64
	benchBoth(b, func(n uint64) error {
		key := "bench-" + strconv.FormatUint(keys.Add(1), 36)
		_, err := m.Deposit(bg, bank.DepositRequest{Account: accs[n%uint64(len(accs))], Amount: 1, IdempotencyKey: key})
		return err
	})
}

// BenchmarkMemoryStatement reads a month of 10 transactions from an
// account with 100 transactions over ten months.
func BenchmarkMemoryStatement(b *testing.B) {
	clock := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	m := NewMemory(DefaultAccounts, WithClock(func() time.Time { return clock }))
	acc := SeedAccount(1)
	for k := 0; k < 100; k++ {
		clock = time.Date(2026, time.Month(1+k/10), 1+k%10, 0, 0, 0, 0, time.UTC)
		if _, err := m.Deposit(bg, bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: "st-" + strconv.Itoa(k)}); err != nil {
			b.Fatal(err)
		}
	}
	benchBoth(b, func(uint64) error {
		st, err := m.Statement(bg, bank.StatementQuery{Limit: bank.MaxPageSize, Account: acc, Month: "2026-05"})
		if err == nil && len(st.Transactions) != 10 {
			b.Fatalf("statement has %d transactions", len(st.Transactions))
		}
		return err
	})
}
