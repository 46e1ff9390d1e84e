package bench_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/internal/benchtest"
	"github.com/igbank/igbank/loadtest/registry"
)

// services is an OTLP/HTTP collector that decodes every export and keeps
// the service names of the spans it was sent.
type services struct {
	mu    sync.Mutex
	names map[string]int
}

func (s *services) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
				for _, ss := range rs.ScopeSpans {
					s.names[a.GetValue().GetStringValue()] += len(ss.Spans)
				}
			}
		}
	}
}

// With Config.OTLP, the generator's clients and the server process it
// starts both export their spans there; the reference exports none.
func TestRunTraces(t *testing.T) {
	col := &services{names: map[string]int{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	c := benchtest.ShortConfig([]string{"grpc"})
	c.OTLP = srv.URL
	if _, err := bench.Run(context.Background(), c, nil); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, want := range []string{"igbank-loadtest", "igbank-grpc-server"} {
		if col.names[want] == 0 {
			t.Errorf("no spans from %s; spans by service: %v", want, col.names)
		}
	}
	for name := range col.names {
		if strings.Contains(name, registry.ReferenceName) {
			t.Errorf("the reference exported spans as %s", name)
		}
	}
}

// With OTLPDiscard the run traces into a receiver of its own and says
// how many spans it received.
func TestRunTracesDiscard(t *testing.T) {
	c := benchtest.ShortConfig([]string{"raw"})
	c.InProcess = true
	c.OTLP = bench.OTLPDiscard
	var lines []string
	var mu sync.Mutex
	if _, err := bench.Run(context.Background(), c, func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^traces: (\d+) spans`)
	i := slices.IndexFunc(lines, re.MatchString)
	if i < 0 {
		t.Fatalf("no traces line in the progress: %q", lines)
	}
	if n, _ := strconv.Atoi(re.FindStringSubmatch(lines[i])[1]); n == 0 {
		t.Errorf("%q: want spans received", lines[i])
	}
	c.OTLP = "127.0.0.1:4318"
	if _, err := c.Validate(); err == nil {
		t.Error("an OTLP endpoint with no scheme validates")
	}
}
