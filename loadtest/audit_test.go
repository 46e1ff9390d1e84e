package loadtest

import (
	"context"
	"testing"
	"time"
)

// TestFaultsWithoutKeys is the workshop pair's other half: the same
// lost-response scenario against a server that ignores idempotency keys
// applies deposits twice, and the audit finds them, on every registered
// transport. reset loses responses too (the connection is reset as the
// server answers) and must double deposits the same way.
func TestFaultsWithoutKeys(t *testing.T) {
	for _, scenario := range []string{"lost-response", "reset"} {
		s, ok := LookupScenario(scenario)
		if !ok {
			t.Fatalf("no scenario %q", scenario)
		}
		t.Run(scenario, func(t *testing.T) {
			for _, name := range Names(false) {
				tr, _ := Lookup(name)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					c := shortFaults()
					c.IgnoreKeys = true
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					r := RunFault(ctx, s, tr, c)
					if r.Error != "" {
						t.Fatal(r.Error)
					}
					if r.Audit.OK || r.Audit.Duplicated == 0 {
						t.Fatalf("keys ignored under lost responses: %+v, attempt errors %v, want duplicated deposits", r.Audit, r.AttemptErrors)
					}
					t.Logf("idempotency off: %d of %d deposits applied more than once (attempts %d, attempt errors %v)",
						r.Audit.Duplicated, r.Audit.Attempted, r.Attempts, r.AttemptErrors)
				})
			}
		})
	}
}
