package ledger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
)

func TestSeedAccountAndIndex(t *testing.T) {
	for _, tc := range []struct {
		i   int
		acc bank.AccountNo
	}{{1, "000000001"}, {42, "000000042"}, {10_000, "000010000"}, {999_999_999, "999999999"}} {
		if got := SeedAccount(tc.i); got != tc.acc {
			t.Errorf("SeedAccount(%d) = %q, want %q", tc.i, got, tc.acc)
		}
		if got, ok := SeedIndex(tc.acc); !ok || got != tc.i {
			t.Errorf("SeedIndex(%q) = %d, %t; want %d", tc.acc, got, ok, tc.i)
		}
	}
	for i := 1; i <= 100_000; i += 7 {
		if got, ok := SeedIndex(SeedAccount(i)); !ok || got != i {
			t.Fatalf("SeedIndex(SeedAccount(%d)) = %d, %t", i, got, ok)
		}
	}
	for _, acc := range []bank.AccountNo{"000000000", "", "1", "00000000a", "0000000001", "-00000001"} {
		if i, ok := SeedIndex(acc); ok {
			t.Errorf("SeedIndex(%q) = %d, true; want false", acc, i)
		}
	}
}

func TestSeedBalance(t *testing.T) {
	const lo, hi = 10_000, 9_999_999 // 100.00 to 99,999.99
	distinct := map[bank.Money]bool{}
	for i := 1; i <= 200_000; i++ {
		b := SeedBalance(i)
		if b < lo || b > hi {
			t.Fatalf("SeedBalance(%d) = %d, outside [%d, %d]", i, b, lo, hi)
		}
		if b != SeedBalance(i) {
			t.Fatalf("SeedBalance(%d) is not deterministic", i)
		}
		distinct[b] = true
	}
	if len(distinct) < 150_000 {
		t.Fatalf("only %d distinct balances over 200,000 accounts", len(distinct))
	}
	for _, i := range []int{DefaultAccounts, 999_999_999} {
		if b := SeedBalance(i); b < lo || b > hi {
			t.Fatalf("SeedBalance(%d) = %d", i, b)
		}
	}
}

func TestNewMemorySeeds(t *testing.T) {
	m := NewMemory(DefaultAccounts)
	for _, i := range []int{1, DefaultAccounts / 2, DefaultAccounts} {
		if got, err := m.Balance(bg, SeedAccount(i)); err != nil || got != SeedBalance(i) {
			t.Fatalf("Balance(%d) = %d, %v", i, got, err)
		}
	}
	if _, err := m.Balance(bg, SeedAccount(DefaultAccounts+1)); !errors.Is(err, bank.ErrNotFound) {
		t.Fatalf("account past the seed: %v", err)
	}
}

func TestSeedMonth(t *testing.T) {
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	m := NewMemory(5, WithClock(func() time.Time { return now }))
	if err := m.SeedMonth("2026-11", 3, 250); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		want := 250
		if i > 3 {
			want = 0
		}
		st, err := bank.NewService(m).Statement(ctx, bank.StatementRequest{Account: SeedAccount(i), Month: "2026-11", PageSize: bank.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Transactions) != want {
			t.Fatalf("account %d: %d transactions, want %d", i, len(st.Transactions), want)
		}
		bal, _ := m.Balance(ctx, SeedAccount(i))
		if st.Opening != SeedBalance(i) || st.Closing != bal {
			t.Fatalf("account %d: opening %d closing %d, want %d and the balance %d", i, st.Opening, st.Closing, SeedBalance(i), bal)
		}
		for k, tx := range st.Transactions {
			if tx.Time.Before(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || tx.Time.After(now) {
				t.Fatalf("account %d: transaction %d dated %v, outside the month so far", i, k, tx.Time)
			}
		}
	}
	// A deposit after seeding lands after the seeded rows.
	if _, err := m.Deposit(ctx, bank.DepositRequest{Account: SeedAccount(1), Amount: 5, IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := m.SeedMonth("2026-11", 1, 1); err == nil {
		t.Fatal("seeding a month that has transactions: no error")
	}
	if err := m.SeedMonth("2026-12", 1, 1); err == nil {
		t.Fatal("seeding a month that has not begun: no error")
	}
}
