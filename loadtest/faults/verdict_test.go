package faults

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/loadtest/registry"
)

// A cell passes when it shows what its delivery guarantee predicts, and
// says so in the lab's words; only an outcome the guarantee does not
// predict fails.
func TestVerdict(t *testing.T) {
	lossy, _ := LookupScenario("lost-response")
	calm, _ := LookupScenario("latency")
	crash, _ := LookupScenario("crash-after-apply")
	once := audit.Result{Attempted: 100, Acknowledged: 100, Applied: 100, Replayed: 7, OK: true}
	dups := audit.Result{Attempted: 100, Acknowledged: 100, Applied: 100, Duplicated: 9, BadBalances: 3}
	unacked := audit.Result{Attempted: 100, Acknowledged: 80, Applied: 95, Unknown: 20, UnknownApplied: 15, OK: true}
	lost := audit.Result{Attempted: 100, Acknowledged: 100, Applied: 99, Lost: 1}
	for _, tc := range []struct {
		name     string
		s        Scenario
		r        Result
		pass     bool
		contains string
	}{
		{"exactly once", lossy, Result{Audit: once}, true, "exactly once: 7 lost responses recovered"},
		{"exactly once broken", lossy, Result{Audit: dups}, false, "FAIL: duplicated 9"},
		{"keys off, duplicates", lossy, Result{IgnoreKeys: true, Audit: dups}, true, "duplicates found, as expected with keys off: 9 of 100"},
		{"keys off, no duplicate where responses were lost", lossy, Result{IgnoreKeys: true, Audit: once}, false, "no duplicates although keys were off"},
		{"keys off, nothing lost", calm, Result{IgnoreKeys: true, Audit: once}, true, "no duplicates: no response was lost"},
		{"keys off, an acknowledged deposit lost", lossy, Result{IgnoreKeys: true, Audit: lost}, false, "lost 1"},
		{"no retries, unacknowledged", crash, Result{NoRetry: true, Audit: unacked}, true, "20 of 100 deposits unacknowledged (15 of them applied, 5 not), as expected without retries"},
		{"no retries, a duplicate", lossy, Result{NoRetry: true, Audit: dups}, false, "applied twice with one attempt each"},
		{"retries, crash left deposits unacknowledged", crash, Result{Audit: unacked}, false, "20 of 100 deposits unacknowledged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.SawExpected = true
			pass, v := verdict(tc.r, tc.s)
			if pass != tc.pass || !strings.Contains(v, tc.contains) {
				t.Errorf("verdict = %v, %q; want %v, containing %q", pass, v, tc.pass, tc.contains)
			}
		})
	}
	r := Result{Audit: once, Expected: []string{"unavailable"}}
	if pass, v := verdict(r, lossy); pass || !strings.Contains(v, "expected unavailable on the attempts, saw none") {
		t.Errorf("expected codes unseen: %v, %q", pass, v)
	}
}

// TestFaultsAtMostOnce is at-most-once delivery through a real fault: one
// attempt per deposit under lost responses leaves deposits
// unacknowledged, some of them applied all the same, and none applied
// twice, on raw sockets and gRPC.
func TestFaultsAtMostOnce(t *testing.T) {
	s, _ := LookupScenario("lost-response")
	for _, name := range []string{"raw", "grpc"} {
		tr, ok := registry.Lookup(name)
		if !ok {
			t.Fatalf("no transport %q", name)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := shortFaults()
			c.NoRetry = true
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := runCell(ctx, s, tr, c)
			if r.Error != "" {
				t.Fatal(r.Error)
			}
			a := r.Audit
			t.Logf("%s: %s", r.Delivery(), r.Verdict)
			if r.Delivery() != AtMostOnce || r.Retries != 0 || a.Duplicated != 0 || a.Acknowledged == a.Attempted || a.UnknownApplied == 0 || !r.Pass {
				t.Fatalf("one attempt each under lost responses: retries %d, %+v, pass %v (%s); want no retry, no duplicate, some deposits unacknowledged and applied", r.Retries, a, r.Pass, r.Verdict)
			}
		})
	}
}
