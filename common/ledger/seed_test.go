package ledger

import (
	"errors"
	"testing"

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
