package connectbank_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	connectbank "github.com/igbank/igbank/connect"
	"github.com/igbank/igbank/connect/igbankv1connect"
)

const (
	pageOrigin  = "http://127.0.0.1:8080"
	otherOrigin = "http://127.0.0.1:9090"
)

// corsRequest sends method to path of the server at addr, over HTTP/1.1
// on a real socket as a browser would, with the headers h.
func corsRequest(t *testing.T, addr, method, path string, h map[string]string, body string) *http.Response {
	t.Helper()
	return banktest.HTTPRequest(t, method, "http://"+addr+path, h, body)
}

func preflight(t *testing.T, addr, path, origin, headers string) *http.Response {
	t.Helper()
	return corsRequest(t, addr, http.MethodOptions, path, map[string]string{
		"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers,
	}, "")
}

// The request headers connect-web sends: with the Connect protocol, and
// with gRPC-Web.
const (
	connectHeaders = "connect-protocol-version,connect-timeout-ms,content-type"
	grpcWebHeaders = "content-type,grpc-timeout,x-grpc-web,x-user-agent"
)

// With WithCORSOrigins, a preflight from a configured origin is answered
// for both browser protocols, and a call from it carries
// Access-Control-Allow-Origin and exposes the protocols' headers; another
// origin gets no CORS header, so its browser refuses the page the
// response.
func TestCORSAllowedOrigin(t *testing.T) {
	addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10)),
		connectbank.WithCORSOrigins(pageOrigin, "https://bank.example")))
	for _, tc := range []struct{ protocol, headers string }{{"connect", connectHeaders}, {"grpc-web", grpcWebHeaders}} {
		for _, proc := range []string{igbankv1connect.BankServiceBalanceProcedure, igbankv1connect.BankServiceStatementProcedure, igbankv1connect.BankServiceDepositProcedure} {
			r := preflight(t, addr, proc, pageOrigin, tc.headers)
			if r.StatusCode/100 != 2 || r.Header.Get("Access-Control-Allow-Origin") != pageOrigin || r.Header.Get("Access-Control-Allow-Methods") != "POST" {
				t.Errorf("%s preflight of %s from %s: %d %v", tc.protocol, proc, pageOrigin, r.StatusCode, corsHeaders(r.Header))
			}
			if r := preflight(t, addr, proc, otherOrigin, tc.headers); len(corsHeaders(r.Header)) > 0 {
				t.Errorf("%s preflight of %s from %s: CORS headers %v, want none", tc.protocol, proc, otherOrigin, corsHeaders(r.Header))
			}
		}
	}
	if r := preflight(t, addr, igbankv1connect.BankServiceBalanceProcedure, pageOrigin, "x-unknown"); len(corsHeaders(r.Header)) > 0 {
		t.Errorf("preflight with an unknown header: CORS headers %v, want none", corsHeaders(r.Header))
	}

	balance := `{"account":"` + string(ledger.SeedAccount(1)) + `"}`
	h := map[string]string{"Origin": pageOrigin, "Content-Type": "application/json", "Connect-Protocol-Version": "1"}
	r := corsRequest(t, addr, "POST", igbankv1connect.BankServiceBalanceProcedure, h, balance)
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != pageOrigin {
		t.Fatalf("Connect call from %s: %d %v", pageOrigin, r.StatusCode, corsHeaders(r.Header))
	}
	if e := r.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(e, "Grpc-Status") || !strings.Contains(e, "Grpc-Message") {
		t.Errorf("Connect call: Access-Control-Expose-Headers %q, want the gRPC-Web trailers among them", e)
	}
	h["Origin"] = otherOrigin
	if r := corsRequest(t, addr, "POST", igbankv1connect.BankServiceBalanceProcedure, h, balance); r.StatusCode != 200 || len(corsHeaders(r.Header)) > 0 {
		t.Errorf("Connect call from %s: %d, CORS headers %v, want none", otherOrigin, r.StatusCode, corsHeaders(r.Header))
	}
}

// Without WithCORSOrigins there are no CORS headers at all.
func TestCORSOffByDefault(t *testing.T) {
	addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10))))
	r := preflight(t, addr, igbankv1connect.BankServiceBalanceProcedure, pageOrigin, connectHeaders)
	if r.StatusCode/100 == 2 || len(corsHeaders(r.Header)) > 0 {
		t.Fatalf("preflight without origins: %d %v", r.StatusCode, corsHeaders(r.Header))
	}
}

// corsHeaders are the Access-Control-* headers of h.
func corsHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = v
		}
	}
	return out
}
