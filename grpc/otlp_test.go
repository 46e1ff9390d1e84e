package grpcbank_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/igbank/igbank/common/traces"
)

// collector is an OTLP/HTTP receiver that decodes what it is sent with
// the OTLP protobuf definitions and keeps every span by its service.
type collector struct {
	mu    sync.Mutex
	spans map[string][]*tracepb.Span // by service.name
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "not an OTLP export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		svc := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				svc = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			c.spans[svc] = append(c.spans[svc], ss.Spans...)
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (c *collector) span(svc, name string) *tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.spans[svc] {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// TestOTLPExport builds cmd/server and cmd/client and runs them with
// -otlp pointed at a collector: the client's spans arrive before it
// exits, the server's once it has been stopped (SIGTERM), all in one
// trace: the client's call, its attempt, the server's gRPC span, the
// bank's and the ledger's.
func TestOTLPExport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands")
	}
	if runtime.GOOS == "windows" {
		t.Skip("stops the server with SIGTERM")
	}
	dir := t.TempDir()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, name := range []string{"server", "client"} {
		if out, err := exec.Command(gobin, "build", "-o", filepath.Join(dir, name), "./cmd/"+name).CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, out)
		}
	}
	col := &collector{spans: map[string][]*tracepb.Span{}}
	otlp := httptest.NewServer(col)
	defer otlp.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := exec.Command(filepath.Join(dir, "server"), "-addr", addr, "-accounts", "10", "-otlp", otlp.URL)
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	ready := make(chan bool, 1)
	var logged bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			logged.WriteString(sc.Text() + "\n")
			if !found && strings.Contains(sc.Text(), "ready on "+addr) {
				found = true
				ready <- true
			}
		}
		if !found {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			<-done
			t.Fatalf("server exited without its ready line:\n%s", logged.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server not ready after 20 s")
	}

	out, err := exec.Command(filepath.Join(dir, "client"), "-addr", addr, "-otlp", otlp.URL, "balance", "000000003").CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	call := col.span("igbank-grpc-client", traces.BalanceSpan)
	if call == nil {
		t.Fatalf("the client exited without exporting its %s span; spans: %v", traces.BalanceSpan, col.names())
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done // the server's standard error ends when it exits
	if err := srv.Wait(); err != nil {
		t.Fatalf("server after SIGTERM: %v\n%s", err, logged.String())
	}
	attempt := col.span("igbank-grpc-client", "igbank.v1.BankService/Balance")
	server := col.span("igbank-grpc-server", "igbank.v1.BankService/Balance")
	bankSpan := col.span("igbank-grpc-server", traces.BalanceSpan)
	ledgerSpan := col.span("igbank-grpc-server", traces.LedgerBalanceSpan)
	if attempt == nil || server == nil || bankSpan == nil || ledgerSpan == nil {
		t.Fatalf("spans exported: %v; want the client's attempt and the server's gRPC, bank and ledger spans", col.names())
	}
	for _, link := range []struct {
		what          string
		child, parent *tracepb.Span
	}{
		{"the attempt under the call", attempt, call},
		{"the server's span under the attempt", server, attempt},
		{"the bank's span under the server's", bankSpan, server},
		{"the ledger's span under the bank's", ledgerSpan, bankSpan},
	} {
		if !bytes.Equal(link.child.TraceId, call.TraceId) || !bytes.Equal(link.child.ParentSpanId, link.parent.SpanId) {
			t.Errorf("%s: span %s (trace %x, parent %x) is not the child of %s (trace %x, span %x)", link.what,
				link.child.Name, link.child.TraceId, link.child.ParentSpanId, link.parent.Name, link.parent.TraceId, link.parent.SpanId)
		}
	}
}

func (c *collector) names() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := map[string][]string{}
	for svc, spans := range c.spans {
		for _, s := range spans {
			n[svc] = append(n[svc], s.Name)
		}
	}
	return n
}
