package traces_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/traces"
)

func TestSetupOffWhenNoEndpoint(t *testing.T) {
	tp, shutdown, err := traces.Setup(context.Background(), "", "test")
	if err != nil || tp != nil {
		t.Fatalf("Setup(\"\") = %v, %v; want a nil provider, no error", tp, err)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown of tracing off: %v", err)
	}
	var l bank.Ledger = ledger.NewMemory(1)
	if traces.Ledger(l, nil) != l {
		t.Error("Ledger(l, nil) is not l: tracing off must add nothing")
	}
	b := bank.NewService(l)
	if traces.Bank(b, nil) != bank.Bank(b) {
		t.Error("Bank(b, nil) is not b: tracing off must add nothing")
	}
}

func TestSetupRefusesBadEndpoint(t *testing.T) {
	for _, e := range []string{"127.0.0.1:4318", "ftp://host/", "http://", "discard"} {
		if _, _, err := traces.Setup(context.Background(), e, "test"); err == nil {
			t.Errorf("Setup(%q) succeeded; want an error", e)
		}
	}
}

func TestDefaultEndpoint(t *testing.T) {
	for _, tc := range []struct{ traces, base, want string }{
		{"", "", ""},
		{"", "http://collector:4318", "http://collector:4318/v1/traces"},
		{"", "http://collector:4318/", "http://collector:4318/v1/traces"},
		{"", "http://collector:4318/otel", "http://collector:4318/otel/v1/traces"},
		{"http://jaeger:4318/v1/traces", "http://collector:4318", "http://jaeger:4318/v1/traces"},
	} {
		t.Setenv(traces.EnvTracesEndpoint, tc.traces)
		t.Setenv(traces.EnvEndpoint, tc.base)
		if got := traces.DefaultEndpoint(); got != tc.want {
			t.Errorf("traces endpoint %q, endpoint %q: DefaultEndpoint() = %q, want %q", tc.traces, tc.base, got, tc.want)
		}
	}
}

func TestExportURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4318":           "http://127.0.0.1:4318/v1/traces",
		"http://127.0.0.1:4318/":          "http://127.0.0.1:4318/v1/traces",
		"https://c.example/custom/traces": "https://c.example/custom/traces",
	} {
		if got, err := traces.ExportURL(in); err != nil || got != want {
			t.Errorf("ExportURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// collector is an OTLP/HTTP receiver that decodes every export with the
// OTLP protobuf definitions, independently of package traces.
type collector struct {
	mu    sync.Mutex
	names []string
	svc   []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
		http.Error(w, "not here", http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				c.svc = append(c.svc, a.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.names = append(c.names, s.Name)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func TestSetupExports(t *testing.T) {
	var c collector
	srv := httptest.NewServer(&c)
	defer srv.Close()
	// The URL with no path, as an operator writes it: the spans must
	// arrive at /v1/traces.
	tp, shutdown, err := traces.Setup(context.Background(), srv.URL, "igbank-test")
	if err != nil {
		t.Fatal(err)
	}
	b := traces.Bank(bank.NewService(traces.Ledger(ledger.NewMemory(3), tp)), tp)
	if _, err := b.Balance(context.Background(), "000000002"); err != nil {
		t.Fatal(err)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown (flush): %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	got := strings.Join(c.names, ",")
	if !strings.Contains(got, traces.BalanceSpan) || !strings.Contains(got, traces.LedgerBalanceSpan) {
		t.Errorf("the collector received spans %q; want %s and %s", got, traces.BalanceSpan, traces.LedgerBalanceSpan)
	}
	if len(c.svc) == 0 || c.svc[0] != "igbank-test" {
		t.Errorf("service.name of the spans = %q, want igbank-test", c.svc)
	}
}

func TestReceiverCounts(t *testing.T) {
	r, err := traces.NewReceiver()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tp, shutdown, err := traces.Setup(context.Background(), r.URL(), "igbank-test")
	if err != nil {
		t.Fatal(err)
	}
	b := traces.Bank(bank.NewService(traces.Ledger(ledger.NewMemory(3), tp)), tp)
	const calls = 7
	for range calls {
		b.Balance(context.Background(), "000000001")
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.Spans(); got != 2*calls {
		t.Errorf("the receiver counted %d spans, want %d (a bank and a ledger span a call)", got, 2*calls)
	}
	if r.Requests() == 0 {
		t.Error("the receiver counted no export")
	}
	resp, err := http.Post(r.URL(), "application/x-protobuf", strings.NewReader("\x0a\xff"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed export got %s, want 400", resp.Status)
	}
}

func TestCountSpans(t *testing.T) {
	// An export of 2 resources, of 1 and 2 scopes, of 3 spans in all.
	if n, err := traces.CountSpans(exportOf(t, 1, 2)); err != nil || n != 3 {
		t.Errorf("CountSpans = %d, %v; want 3", n, err)
	}
	if _, err := traces.CountSpans([]byte{0x0a, 0x05, 0x12}); err == nil {
		t.Error("CountSpans of a truncated message: no error")
	}
}

// exportOf encodes an export whose first resource has a scope of n1
// spans and whose second has a scope of n2 spans and an empty one.
func exportOf(t *testing.T, n1, n2 int) []byte {
	t.Helper()
	spans := func(n int) []*tracepb.Span {
		var s []*tracepb.Span
		for range n {
			s = append(s, &tracepb.Span{Name: "x"})
		}
		return s
	}
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{
		{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans(n1)}}},
		{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans(n2)}, {}}},
	}}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBankAndLedgerSpans(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	b := traces.Bank(bank.NewService(traces.Ledger(ledger.NewMemory(3), tp)), tp)
	ctx := context.Background()
	const key = "secret-key-4b1d"
	if _, err := b.Deposit(ctx, bank.DepositRequest{Account: "000000001", Amount: 250, IdempotencyKey: key}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Balance(ctx, "000000999"); !errors.Is(err, bank.ErrNotFound) {
		t.Fatalf("balance of an unknown account: %v", err)
	}
	if _, err := b.Deposit(ctx, bank.DepositRequest{Account: "000000001", Amount: 1, IdempotencyKey: key}); bank.CodeOf(err) != bank.IdempotencyKeyReuse {
		t.Fatalf("a key reused: %v", err)
	}
	spans := sr.Ended()
	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = append(byName[s.Name()], s)
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.Emit(), key) {
				t.Errorf("span %s has the idempotency key in %s", s.Name(), a.Key)
			}
		}
		if strings.Contains(s.Status().Description, key) {
			t.Errorf("span %s has the idempotency key in its status", s.Name())
		}
	}
	dep, ldep := byName[traces.DepositSpan], byName[traces.LedgerDepositSpan]
	if len(dep) != 2 || len(ldep) != 2 {
		t.Fatalf("spans %v: want 2 of %s and 2 of %s", names(spans), traces.DepositSpan, traces.LedgerDepositSpan)
	}
	if ldep[0].Parent().SpanID() != dep[0].SpanContext().SpanID() || ldep[0].SpanContext().TraceID() != dep[0].SpanContext().TraceID() {
		t.Error("the ledger's deposit span is not the child of the bank's")
	}
	want := map[attribute.Key]string{"rpc.method": "Deposit", traces.AccountKey: "000000001", traces.AmountKey: "250", traces.CodeKey: "ok", traces.ReplayedKey: "false"}
	checkAttrs(t, dep[0], want)
	if dep[0].Status().Code == codes.Error {
		t.Errorf("a deposit that succeeded has status %v", dep[0].Status())
	}
	checkAttrs(t, dep[1], map[attribute.Key]string{traces.CodeKey: "idempotency_key_reused"})
	if st := dep[1].Status(); st.Code != codes.Error || st.Description != "idempotency_key_reused" {
		t.Errorf("the refused deposit's status = %v, want Error idempotency_key_reused", st)
	}
	bal := byName[traces.BalanceSpan]
	if len(bal) != 1 {
		t.Fatalf("spans %v: want one %s", names(spans), traces.BalanceSpan)
	}
	checkAttrs(t, bal[0], map[attribute.Key]string{traces.CodeKey: "not_found", traces.AccountKey: "000000999"})
	if bal[0].Status().Code != codes.Error {
		t.Errorf("a balance of an unknown account has status %v, want Error", bal[0].Status())
	}
	// What a caller sends that is not an account is not recorded.
	b.Balance(ctx, bank.AccountNo(strings.Repeat("9", 5000)))
	last := sr.Ended()[len(sr.Ended())-1]
	checkAttrs(t, last, map[attribute.Key]string{traces.AccountKey: "invalid", traces.CodeKey: "invalid_argument"})
}

func checkAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[attribute.Key]string) {
	t.Helper()
	got := map[attribute.Key]string{}
	for _, a := range s.Attributes() {
		got[a.Key] = a.Value.Emit()
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("span %s: %s = %q, want %q", s.Name(), k, got[k], v)
		}
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name())
	}
	return n
}
