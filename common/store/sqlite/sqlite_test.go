package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store/internal/storetest"
	"github.com/igbank/igbank/common/store/sqlite"
)

func open(t testing.TB, path string, n int, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	banktest.Run(t, banktest.InProcess, banktest.WithLedger(func(t testing.TB, n int) bank.Ledger {
		return open(t, filepath.Join(t.TempDir(), "bank.db"), n)
	}))
}

func TestKeyExpiry(t *testing.T) {
	storetest.KeyExpiry(t, func(t *testing.T, now func() time.Time) storetest.Sweeping {
		return open(t, filepath.Join(t.TempDir(), "bank.db"), 10,
			sqlite.WithClock(now), sqlite.WithRetention(time.Hour), sqlite.WithSweepInterval(0))
	})
}

func TestClockStepsBack(t *testing.T) {
	storetest.ClockStepsBack(t, func(t *testing.T, now func() time.Time) storetest.Sweeping {
		return open(t, filepath.Join(t.TempDir(), "bank.db"), 10, sqlite.WithClock(now), sqlite.WithSweepInterval(0))
	})
}

func TestOverflowRejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bank.db")
	s := open(t, path, 1)
	ctx := context.Background()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE accounts SET balance = ?`, int64(bank.MaxBalance-5)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 6, IdempotencyKey: "overflow"})
	if !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("overflowing deposit: %v, want InvalidArgument", err)
	}
	// The key was not consumed and the balance is unchanged.
	r, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 5, IdempotencyKey: "overflow"})
	if err != nil || r.Replayed || r.Balance != bank.MaxBalance {
		t.Fatalf("deposit to the maximum = %+v, %v", r, err)
	}
}

func TestPaging(t *testing.T) {
	storetest.Paging(t, func(t *testing.T, now func() time.Time) storetest.Sweeping {
		return open(t, filepath.Join(t.TempDir(), "bank.db"), 10, sqlite.WithClock(now), sqlite.WithSweepInterval(0))
	})
}
