package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// TestAuditFindsViolations applies deposits to a fresh ledger directly and
// checks that the audit tells each kind of violation apart.
func TestAuditFindsViolations(t *testing.T) {
	ctx := context.Background()
	month := []bank.Month{bank.MonthOf(time.Now())}
	acc1, acc2 := ledger.SeedAccount(1), ledger.SeedAccount(2)
	type step struct {
		d     audit.Deposit
		apply int // times the ledger applies it
		key   string
	}
	cases := []struct {
		name  string
		steps []step
		check func(audit.Result) bool
	}{
		{"clean", []step{
			{d: audit.Deposit{Key: "k1", Account: acc1, Amount: 100, Outcome: audit.Acknowledged}, apply: 1},
			{d: audit.Deposit{Key: "k2", Account: acc2, Amount: 200, Outcome: audit.Unknown, Code: bank.Unavailable}, apply: 1},
			{d: audit.Deposit{Key: "k3", Account: acc2, Amount: 300, Outcome: audit.Unknown, Code: bank.DeadlineExceeded}},
			{d: audit.Deposit{Key: "k4", Account: acc1, Amount: 400, Outcome: audit.Failed, Code: bank.InvalidArgument}},
		}, func(r audit.Result) bool {
			return r.OK && r.Applied == 2 && r.UnknownApplied == 1 && r.Acknowledged == 1 && r.Unknown == 2 && r.Failed == 1 &&
				r.Applications["k1"] == 1 && r.Applications["k2"] == 1 && r.Applications["k3"] == 0 && r.Applications["k4"] == 0
		}},
		{"lost", []step{{d: audit.Deposit{Key: "k1", Account: acc1, Amount: 100, Outcome: audit.Acknowledged}}},
			func(r audit.Result) bool { return !r.OK && r.Lost == 1 }},
		{"duplicated", []step{{d: audit.Deposit{Key: "k1", Account: acc1, Amount: 100, Outcome: audit.Unknown}, apply: 2}},
			func(r audit.Result) bool {
				return !r.OK && r.Duplicated == 1 && r.BadBalances == 1 && r.Applications["k1"] == 2
			}},
		{"phantom", []step{
			{d: audit.Deposit{Key: "k1", Account: acc1, Amount: 100, Outcome: audit.Unknown}},
			{d: audit.Deposit{Key: "k1", Account: acc1, Amount: 100}, apply: 1, key: "nobody"},
		}[:2], nil},
		{"failed-applied", []step{{d: audit.Deposit{Key: "k1", Account: acc1, Amount: 100, Outcome: audit.Failed, Code: bank.NotFound}, apply: 1}},
			func(r audit.Result) bool { return !r.OK && r.FailedApplied == 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := bank.NewService(ledger.NewMemory(4))
			var ds []audit.Deposit
			for _, s := range tc.steps {
				key := s.d.Key
				if s.key != "" {
					key = s.key
				} else {
					ds = append(ds, s.d)
				}
				for i := 0; i < s.apply; i++ {
					k := key
					if i > 0 {
						k = key + "-again" // a server that ignores keys
					}
					rc, err := svc.Deposit(ctx, bank.DepositRequest{Account: s.d.Account, Amount: s.d.Amount, IdempotencyKey: k})
					if err != nil {
						t.Fatal(err)
					}
					if s.key == "" && s.d.Outcome == audit.Acknowledged {
						ds[len(ds)-1].Receipt = rc
					}
				}
			}
			check := tc.check
			if check == nil {
				check = func(r audit.Result) bool { return !r.OK && r.Phantom == 1 }
			}
			r, err := audit.Check(ctx, svc, month, ds, tc.name == "duplicated")
			if err != nil {
				t.Fatal(err)
			}
			if !check(r) {
				t.Fatalf("audit: %+v", r)
			}
		})
	}
}
