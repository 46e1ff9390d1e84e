package cli_test

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/common/transport"
)

// -otlp is on every server, off by default, and defaults to the
// environment's endpoint.
func TestServerFlagsOTLP(t *testing.T) {
	t.Setenv(traces.EnvTracesEndpoint, "")
	t.Setenv(traces.EnvEndpoint, "")
	var f cli.ServerFlags
	f.Register(flag.NewFlagSet("server", flag.ContinueOnError), transport.Descriptor{DefaultAddr: "127.0.0.1:0"})
	if f.Traces.OTLP != "" {
		t.Errorf("-otlp defaults to %q with no environment; want off", f.Traces.OTLP)
	}
	t.Setenv(traces.EnvEndpoint, "http://collector:4318")
	f = cli.ServerFlags{}
	f.Register(flag.NewFlagSet("server", flag.ContinueOnError), transport.Descriptor{DefaultAddr: "127.0.0.1:0"})
	if f.Traces.OTLP != "http://collector:4318/v1/traces" {
		t.Errorf("-otlp defaults to %q with %s set; want its traces URL", f.Traces.OTLP, traces.EnvEndpoint)
	}
}

// spanSink decodes the OTLP exports it is sent and keeps the spans'
// names and services.
type spanSink struct {
	mu    sync.Mutex
	names []string
	svc   []string
}

func (s *spanSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				s.svc = append(s.svc, a.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				s.names = append(s.names, sp.Name)
			}
		}
	}
}

// The client's span of its call is exported before RunClient returns.
func TestRunClientExportsSpans(t *testing.T) {
	var sink spanSink
	srv := httptest.NewServer(&sink)
	defer srv.Close()
	b := bank.NewService(ledger.NewMemory(10))
	if code, _, errs := run(t, b, "-otlp", srv.URL, "balance", string(ledger.SeedAccount(3))); code != 0 {
		t.Fatalf("balance: exit %d, %s", code, errs)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if !slices.Contains(sink.names, traces.BalanceSpan) {
		t.Errorf("spans exported: %q; want %s", sink.names, traces.BalanceSpan)
	}
	if !slices.Contains(sink.svc, "igbank-bank-client") {
		t.Errorf("services exported: %q; want igbank-bank-client", sink.svc)
	}
	if code, _, _ := run(t, b, "-otlp", "127.0.0.1:4318", "balance", string(ledger.SeedAccount(3))); code != cli.ExitUsage {
		t.Errorf("-otlp with no scheme: exit %d, want %d", code, cli.ExitUsage)
	}
}
