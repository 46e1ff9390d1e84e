package faults

import (
	"context"
	"testing"
	"time"

	"github.com/igbank/igbank/loadtest/registry"
)

// shortFaults is the short form of every scenario: seconds, bounded.
func shortFaults() Config {
	return Config{Deposits: 40, Workers: 4, Accounts: 4, Duration: 600 * time.Millisecond,
		CallTimeout: 3 * time.Second, AttemptTimeout: 150 * time.Millisecond}
}

// faultTransports are the transports the short scenarios run over: every
// registered one, protocol variants included (Connect's gRPC and gRPC-Web
// protocols, Thrift's compact protocol frame their messages differently).
func faultTransports() []string { return registry.Names(false) }

// TestFaults runs every scenario over the transports, with keys on, and
// asserts the audit (exactly once) and the client-visible error code.
func TestFaults(t *testing.T) {
	for _, s := range Scenarios {
		t.Run(s.Name, func(t *testing.T) {
			for _, name := range faultTransports() {
				tr, ok := registry.Lookup(name)
				if !ok {
					t.Fatalf("no transport %q", name)
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					c := shortFaults()
					if len(s.Expect) == 0 {
						// A scenario that expects no failure at all (latency,
						// slow-link) must not fail for want of CPU on a busy
						// test machine with nine cells in parallel: its attempts
						// get 2 s, far beyond what the fault itself costs.
						c.AttemptTimeout = 2 * time.Second
					}
					r := runCell(ctx, s, tr, c)
					t.Logf("%+v", r)
					if r.Error != "" {
						t.Fatal(r.Error)
					}
					if !r.Audit.OK {
						t.Errorf("exactly-once broken: %+v", r.Audit)
					}
					if !r.SawExpected {
						t.Errorf("expected codes %v on the attempts, saw %v", r.Expected, r.AttemptErrors)
					}
					if s.Name == "lost-response" && r.Audit.Replayed+r.Audit.UnknownApplied == 0 {
						t.Errorf("no deposit was applied while its response was lost: %+v", r.Audit)
					}
					if s.AllAcked && r.Audit.Acknowledged != r.Audit.Attempted {
						t.Errorf("%d of %d acknowledged, want all", r.Audit.Acknowledged, r.Audit.Attempted)
					}
				})
			}
		})
	}
}

// TestFaultsOverTLS: the lost response and the crash after applying, over
// TLS: the faults cut TLS sessions, clients reconnect with new handshakes,
// and every deposit is still applied once.
func TestFaultsOverTLS(t *testing.T) {
	for _, name := range []string{"lost-response", "crash-after-apply"} {
		s, ok := LookupScenario(name)
		if !ok {
			t.Fatalf("no scenario %q", name)
		}
		for _, trName := range []string{"raw", "grpc"} {
			tr, _ := registry.Lookup(trName)
			t.Run(name+"/"+trName, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				c := shortFaults()
				c.TLS = true
				r := runCell(ctx, s, tr, c)
				if r.Error != "" {
					t.Fatal(r.Error)
				}
				if !r.TLS || !r.Audit.OK || !r.SawExpected || r.Audit.Acknowledged == 0 {
					t.Errorf("over TLS: tls %v, audit %+v, saw expected %v (%v)", r.TLS, r.Audit, r.SawExpected, r.AttemptErrors)
				}
			})
		}
	}
}
