package loadtest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/loadtest/registry"
)

// shortFaults is the short form of every scenario: seconds, bounded.
func shortFaults() FaultConfig {
	return FaultConfig{Deposits: 40, Workers: 4, Accounts: 4, Duration: 600 * time.Millisecond,
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
					r := RunFault(ctx, s, tr, shortFaults())
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

// TestFaultsCommand runs "loadtest faults" end to end: help, a bad flag,
// and one short cell written as JSON.
func TestFaultsCommand(t *testing.T) {
	var out, errs strings.Builder
	if code := Main([]string{"faults", "-h"}, &out, &errs); code != 0 {
		t.Fatalf("faults -h: exit %d", code)
	}
	for _, s := range Scenarios {
		if !strings.Contains(errs.String(), "\n  "+s.Name+"\n") {
			t.Errorf("faults -h does not explain %s", s.Name)
		}
	}
	if code := Main([]string{"faults", "-scenario", "nosuch"}, &out, &errs); code != 2 {
		t.Errorf("unknown scenario: exit %d, want 2", code)
	}
	path := filepath.Join(t.TempDir(), "m.json")
	out.Reset()
	code := Main([]string{"faults", "-scenario", "refused", "-transports", "raw", "-deposits", "10", "-duration", "200ms", "-json", path}, &out, &errs)
	if code != 0 {
		t.Fatalf("faults refused over raw: exit %d\n%s", code, out.String())
	}
	var got []FaultResult
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &got)
	}
	if err != nil || len(got) != 1 || !got[0].Pass || got[0].Audit.Attempted != 10 {
		t.Fatalf("JSON matrix: %v %+v", err, got)
	}
	if !strings.Contains(out.String(), "refused") || !strings.Contains(out.String(), "ok") {
		t.Errorf("matrix table:\n%s", out.String())
	}
}
