package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store"
	"github.com/igbank/igbank/common/store/postgres/pgtest"
)

func opened(t testing.TB, spec string, n int) bank.Ledger {
	t.Helper()
	l, c, err := store.Open(context.Background(), spec, n)
	if err != nil {
		t.Fatalf("Open(%q): %v", spec, err)
	}
	t.Cleanup(func() { c.Close() })
	return l
}

// The same suite through the selector, one spec per store.
func TestConformanceEveryStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec func(t testing.TB) string
	}{
		{"memory", func(testing.TB) string { return "memory" }},
		{"sqlite", func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "b.db") + "?synchronous=full" }},
		{"postgres", func(t testing.TB) string { return pgtest.Schema(t) + "&lease=2s" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			banktest.Run(t, banktest.InProcess, banktest.WithLedger(func(t testing.TB, n int) bank.Ledger {
				return opened(t, tc.spec(t), n)
			}))
		})
	}
}

func TestBadSpecs(t *testing.T) {
	for _, spec := range []string{"mem", "sqlite:", "sqlite:x.db?synchronous=off", "sqlite:x.db?bogus=1", "memory?retention=-1s", "mysql://x", "postgres://%zz"} {
		if _, _, err := store.Open(context.Background(), spec, 10); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", spec)
		}
	}
	if _, _, err := store.Open(context.Background(), "memory", 0); err == nil {
		t.Error("Open with 0 accounts succeeded")
	}
	l := opened(t, "memory?retention=1h", 3)
	if b, err := l.Balance(context.Background(), ledger.SeedAccount(3)); err != nil || b != ledger.SeedBalance(3) {
		t.Fatalf("Balance = %d, %v", b, err)
	}
}
