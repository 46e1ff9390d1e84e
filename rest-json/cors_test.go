package restbank_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	restbank "github.com/igbank/igbank/rest-json"
)

const (
	pageOrigin  = "http://127.0.0.1:8080"
	otherOrigin = "http://127.0.0.1:9090"
)

func preflight(t *testing.T, url, origin, method, headers string) *http.Response {
	t.Helper()
	h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
	if headers != "" {
		h["Access-Control-Request-Headers"] = headers
	}
	return banktest.HTTPRequest(t, http.MethodOptions, url, h, "")
}

// With WithCORSOrigins, a preflight from a configured origin is answered
// with the methods and headers of the API, and the calls that follow carry
// Access-Control-Allow-Origin and the readable headers; another origin
// gets no CORS header, so its browser refuses the page the response.
func TestCORSAllowedOrigin(t *testing.T) {
	f := startServer(t, restbank.WithCORSOrigins(pageOrigin, "https://bank.example"))
	acc := ledger.SeedAccount(1)
	deposits := f.url + "/v1/accounts/" + string(acc) + "/deposits"

	r := preflight(t, deposits, pageOrigin, "POST", "content-type,idempotency-key,request-timeout")
	if r.StatusCode/100 != 2 || r.Header.Get("Access-Control-Allow-Origin") != pageOrigin {
		t.Fatalf("preflight from %s: %d, Access-Control-Allow-Origin %q", pageOrigin, r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
	}
	if m := r.Header.Get("Access-Control-Allow-Methods"); m != "POST" {
		t.Errorf("preflight: Access-Control-Allow-Methods %q, want POST", m)
	}
	if h := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")); h != "content-type,idempotency-key,request-timeout" {
		t.Errorf("preflight: Access-Control-Allow-Headers %q", h)
	}
	if r.Header.Get("Access-Control-Max-Age") != "7200" {
		t.Errorf("preflight: Access-Control-Max-Age %q", r.Header.Get("Access-Control-Max-Age"))
	}

	r = banktest.HTTPRequest(t, "GET", f.url+"/v1/accounts/"+string(acc)+"/balance", map[string]string{"Origin": pageOrigin}, "")
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != pageOrigin || !strings.Contains(r.Header.Get("Vary"), "Origin") {
		t.Fatalf("GET balance from %s: %d %v", pageOrigin, r.StatusCode, r.Header)
	}
	r = banktest.HTTPRequest(t, "POST", deposits, map[string]string{"Origin": pageOrigin, "Content-Type": "application/json", "Idempotency-Key": "cors-1"}, `{"amount":100}`)
	if r.StatusCode != 201 || r.Header.Get("Access-Control-Allow-Origin") != pageOrigin {
		t.Fatalf("POST deposit from %s: %d %v", pageOrigin, r.StatusCode, r.Header)
	}
	if e := r.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(e, "Idempotent-Replayed") || !strings.Contains(e, "Location") {
		t.Errorf("POST deposit: Access-Control-Expose-Headers %q", e)
	}

	for _, r := range []*http.Response{
		preflight(t, deposits, otherOrigin, "POST", "content-type,idempotency-key"),
		preflight(t, deposits, "null", "POST", ""),
		preflight(t, deposits, pageOrigin, "DELETE", ""),
		preflight(t, deposits, pageOrigin, "POST", "x-unknown"),
		banktest.HTTPRequest(t, "GET", f.url+"/v1/accounts/"+string(acc)+"/balance", map[string]string{"Origin": otherOrigin}, ""),
	} {
		if got := corsHeaders(r.Header); len(got) > 0 {
			t.Errorf("%s %s from %s: CORS headers %v, want none", r.Request.Method, r.Request.URL.Path, r.Request.Header.Get("Origin"), got)
		}
	}
}

// Without WithCORSOrigins there are no CORS headers at all: a preflight
// is a 405 like any other method the resource does not have.
func TestCORSOffByDefault(t *testing.T) {
	f := startServer(t)
	url := f.url + "/v1/accounts/" + string(ledger.SeedAccount(1)) + "/balance"
	r := preflight(t, url, pageOrigin, "GET", "")
	if r.StatusCode != http.StatusMethodNotAllowed || len(corsHeaders(r.Header)) > 0 {
		t.Fatalf("preflight without origins: %d %v", r.StatusCode, corsHeaders(r.Header))
	}
	r = banktest.HTTPRequest(t, "GET", url, map[string]string{"Origin": pageOrigin}, "")
	if r.StatusCode != 200 || len(corsHeaders(r.Header)) > 0 {
		t.Fatalf("GET without origins: %d %v", r.StatusCode, corsHeaders(r.Header))
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
