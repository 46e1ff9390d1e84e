package cluster_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
)

// bins holds the server binaries built once for the package's tests.
var bins = map[string]string{}
var binDir string

func TestMain(m *testing.M) {
	dir, err := cluster.TempDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bin builds (once) the cmd/server of transport.
func bin(t *testing.T, transport string) string {
	t.Helper()
	if b, ok := bins[transport]; ok {
		return b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := cluster.Build(ctx, binDir, transport)
	if err != nil {
		t.Fatal(err)
	}
	bins[transport] = b
	return b
}

// checkAudit reads the ledger back through b and audits the deposits of a
// run (audit.Check, which reads the statements of months and counts from
// the seed balances, so every test runs on a store of its own), and fails
// the test unless exactly-once held.
func checkAudit(t *testing.T, ctx context.Context, b bank.Bank, months []bank.Month, deposits []audit.Deposit) audit.Result {
	t.Helper()
	r, err := audit.Check(ctx, b, months, deposits, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("audit: %d deposits attempted: %d acknowledged (%d receipts were replays), %d failed, %d unknown (%d of them applied); %d applied",
		r.Attempted, r.Acknowledged, r.Replayed, r.Failed, r.Unknown, r.UnknownApplied, r.Applied)
	if !r.OK {
		t.Fatalf("audit: exactly-once violated: %d lost, %d duplicated, %d phantom, %d mismatched, %d failed yet applied, %d bad balances:\n%s",
			r.Lost, r.Duplicated, r.Phantom, r.Mismatched, r.FailedApplied, r.BadBalances, strings.Join(r.Problems, "\n"))
	}
	return r
}
