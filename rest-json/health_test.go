package restbank_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	restbank "github.com/igbank/igbank/rest-json"
)

// GET and HEAD /healthz with curl: 200 and {"status":"SERVING"}; another
// method is a 405 problem.
func TestCurlHealth(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	f := startServer(t)
	curl(t, f.url+"/healthz").ok(t, "GET /healthz", 200, `{"status":"SERVING"}`+"\n")
	if r := curl(t, "-I", f.url+"/healthz"); r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("HEAD /healthz: %d %v", r.status, r.header)
	}
	r := curl(t, "-X", "POST", f.url+"/healthz")
	r.problem(t, "POST /healthz", 405, bank.InvalidArgument)
	if r.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST /healthz: Allow %q", r.header.Get("Allow"))
	}
}

// Once Shutdown has begun, /healthz answers 503 {"status":"NOT_SERVING"}.
// The server's own listener is closed by then, so the handler is mounted
// in another server (Server.Handler), which keeps serving, as it would
// behind a mux of the caller's.
func TestHealthNotServingAfterShutdown(t *testing.T) {
	s := restbank.NewServer(bank.NewService(ledger.NewMemory(1)))
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	get := func(method string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("GET"); st != 200 || body != `{"status":"SERVING"}`+"\n" {
		t.Fatalf("before Shutdown: %d %q", st, body)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, body := get("GET"); st != 503 || body != `{"status":"NOT_SERVING"}`+"\n" {
		t.Fatalf("after Shutdown: %d %q, want 503 NOT_SERVING", st, body)
	}
	if st, body := get("HEAD"); st != 503 || body != "" {
		t.Fatalf("HEAD after Shutdown: %d %q", st, body)
	}
}
