package restbank_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	restbank "github.com/igbank/igbank/rest-json"
)

type curlResult struct {
	status int
	header http.Header
	body   string
}

// curl runs the curl command line with args (plus -s and a time limit),
// with the response's head printed and its body saved to a file, and
// returns both.
func curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	bodyFile := filepath.Join(t.TempDir(), "body")
	out, err := exec.Command("curl", append([]string{"-s", "--max-time", "10", "-D", "-", "-o", bodyFile}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %q: %v", args, err)
	}
	// Parsed as the answer to a HEAD, so that only the head is read.
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), &http.Request{Method: http.MethodHead})
	if err != nil {
		t.Fatalf("curl %q printed %q: %v", args, out, err)
	}
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		t.Fatal(err)
	}
	return curlResult{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// problem checks that r is an application/problem+json error with status
// and code, and the RFC 9457 members.
func (r curlResult) problem(t *testing.T, what string, status int, code bank.Code) {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s: status %d, Content-Type %q, body %s; want %d application/problem+json",
			what, r.status, r.header.Get("Content-Type"), r.body, status)
	}
	var p struct {
		Type, Title, Detail, Code string
		Status                    int
	}
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("%s: body %s: %v", what, r.body, err)
	}
	if p.Code != code.String() || p.Status != status || p.Type != "urn:igbank:problem:"+code.String() ||
		p.Title != http.StatusText(status) || p.Detail == "" {
		t.Fatalf("%s: problem %s, want code %s status %d", what, r.body, code, status)
	}
}

func (r curlResult) ok(t *testing.T, what string, status int, body string) {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/json" || (body != "" && r.body != body) {
		t.Fatalf("%s: %d %q %s, want %d application/json %s", what, r.status, r.header.Get("Content-Type"), r.body, status, body)
	}
}

// TestCurl drives every route and every error case of the API with the
// curl command line tool against a real server, as a user of the README
// would.
func TestCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	f := startServer(t)
	base := f.url + "/v1/accounts/"
	acc := string(ledger.SeedAccount(1))
	balance := ledger.SeedBalance(1)
	wantBalance := func(what string, m bank.Money) {
		t.Helper()
		curl(t, base+acc+"/balance").ok(t, what, 200, fmt.Sprintf(`{"account":"%s","balance":%d}`, acc, m))
	}
	deposit := func(key, body string, extra ...string) curlResult {
		t.Helper()
		args := []string{"-X", "POST", base + acc + "/deposits", "-H", "Content-Type: application/json", "-d", body}
		if key != "" {
			args = append(args, "-H", "Idempotency-Key: "+key)
		}
		return curl(t, append(args, extra...)...)
	}

	// The routes.
	wantBalance("GET balance", balance)
	curl(t, base+acc+"/statements/2001-01").ok(t, "GET empty statement", 200,
		fmt.Sprintf(`{"account":"%s","month":"2001-01","opening":%d,"closing":%d,"transactions":[]}`, acc, balance, balance))
	r := deposit("curl-1", `{"amount":10000}`)
	r.ok(t, "POST deposit", 201, "")
	var rc struct {
		TransactionID int64  `json:"transaction_id"`
		Account       string `json:"account"`
		Amount        int64  `json:"amount"`
		Balance       int64  `json:"balance"`
	}
	if err := json.Unmarshal([]byte(r.body), &rc); err != nil || rc.Account != acc || rc.Amount != 10000 ||
		rc.Balance != int64(balance)+10000 || rc.TransactionID <= 0 {
		t.Fatalf("deposit body %s: %v", r.body, err)
	}
	loc := fmt.Sprintf("/v1/accounts/%s/transactions/%d", acc, rc.TransactionID)
	if r.header.Get("Location") != loc || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("deposit headers %v, want Location %s and no Idempotent-Replayed", r.header, loc)
	}
	again := deposit("curl-1", `{"amount":10000}`)
	if again.status != 201 || again.body != r.body || again.header.Get("Location") != loc || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %v %s; want 201, the same body and Location, Idempotent-Replayed: true", again.status, again.header, again.body)
	}
	wantBalance("balance after deposit and replay", balance+10000)
	month := string(bank.MonthOf(time.Now()))
	st := curl(t, base+acc+"/statements/"+month)
	st.ok(t, "GET statement", 200, "")
	if !strings.Contains(st.body, fmt.Sprintf(`{"id":%d,"time":"%s`, rc.TransactionID, month)) ||
		!strings.Contains(st.body, fmt.Sprintf(`"amount":10000,"balance_after":%d,"idempotency_key":"curl-1"}]`, balance+10000)) {
		t.Fatalf("statement %s does not list the deposit", st.body)
	}
	head := curl(t, "-I", base+acc+"/balance")
	if head.status != 200 || head.header.Get("Content-Length") != strconv.Itoa(len(fmt.Sprintf(`{"account":"%s","balance":%d}`, acc, balance+10000))) {
		t.Fatalf("HEAD balance: %d %v", head.status, head.header)
	}
	spec := curl(t, f.url+"/openapi.json")
	if spec.status != 200 || spec.body != string(restbank.OpenAPI) {
		t.Fatalf("GET /openapi.json: %d", spec.status)
	}

	// 400: malformed requests change nothing.
	balance += 10000
	for _, c := range []struct {
		what string
		args []string
	}{
		{"short account", []string{base + "12345/balance"}},
		{"non-digit account", []string{base + "00000000a/balance"}},
		{"non-ASCII account", []string{base + "%D9%A0%D9%A0%D9%A0%D9%A0%D9%A0%D9%A0%D9%A0%D9%A0%D9%A1/balance"}},
		{"bad month", []string{base + acc + "/statements/2026-13"}},
		{"short month", []string{base + acc + "/statements/2026-1"}},
		{"bad Request-Timeout", []string{base + acc + "/balance", "-H", "Request-Timeout: soon"}},
	} {
		curl(t, c.args...).problem(t, c.what, 400, bank.InvalidArgument)
	}
	for _, c := range []struct{ what, key, body string }{
		{"missing key", "", `{"amount":100}`},
		{"key with a space", "has space", `{"amount":100}`},
		{"not JSON", "bad-1", `amount=100`},
		{"empty body", "bad-2", ``},
		{"unknown field", "bad-3", `{"amount":100,"currency":"EUR"}`},
		{"trailing data", "bad-4", `{"amount":100}{"amount":100}`},
		{"trailing garbage", "bad-5", `{"amount":100} x`},
		{"string exponent amount", "bad-6", `{"amount":"1e2"}`},
		{"float amount", "bad-7", `{"amount":100.0}`},
		{"exponent amount", "bad-8", `{"amount":1e2}`},
		{"fraction amount", "bad-9", `{"amount":100.5}`},
		{"missing amount", "bad-10", `{}`},
		{"null amount", "bad-11", `{"amount":null}`},
		{"duplicate amount", "bad-12", `{"amount":1,"amount":100}`},
		{"capitalised name", "bad-13", `{"Amount":100}`},
		{"array body", "bad-14", `[100]`},
		{"zero amount", "bad-15", `{"amount":0}`},
		{"negative amount", "bad-16", `{"amount":-100}`},
		{"amount over the maximum", "bad-17", `{"amount":1000000001}`},
		{"amount over int64", "bad-18", `{"amount":9223372036854775808}`},
		{"body over the limit", "bad-19", `{"amount":100` + strings.Repeat(" ", restbank.DefaultMaxBodyBytes) + `}`},
	} {
		deposit(c.key, c.body).problem(t, c.what, 400, bank.InvalidArgument)
	}
	curl(t, "-X", "POST", base+acc+"/deposits", "-H", "Content-Type: text/plain", "-H", "Idempotency-Key: bad-ct", "-d", `{"amount":100}`).
		problem(t, "text/plain body", 400, bank.InvalidArgument)
	curl(t, "-X", "POST", base+acc+"/deposits", "-H", "Content-Type: application/json", "-H", "Idempotency-Key: k1", "-H", "Idempotency-Key: k2", "-d", `{"amount":100}`).
		problem(t, "two keys", 400, bank.InvalidArgument)
	wantBalance("balance after the malformed requests", balance)
	// A rejected body did not consume its key.
	deposit("bad-7", `{"amount":100}`).ok(t, "deposit with a key whose first try was malformed", 201, "")
	balance += 100

	// 404: unknown account, unknown resource.
	curl(t, base+"000000999/balance").problem(t, "balance of an unknown account", 404, bank.NotFound)
	curl(t, base+"000000999/statements/2026-01").problem(t, "statement of an unknown account", 404, bank.NotFound)
	curl(t, base+"000000999/deposits", "--json", `{"amount":1}`, "-H", "Idempotency-Key: nf").
		problem(t, "deposit to an unknown account", 404, bank.NotFound)
	curl(t, f.url+"/v1/nothing").problem(t, "unknown resource", 404, bank.NotFound)

	// 422: a key reused with another request.
	deposit("curl-1", `{"amount":20000}`).problem(t, "key reused with another amount", 422, bank.IdempotencyKeyReuse)
	wantBalance("balance after the key reuse", balance)

	// 405 with Allow.
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/balance", "GET, HEAD"},
		{"POST", "/balance", "GET, HEAD"},
		{"PUT", "/statements/2026-01", "GET, HEAD"},
		{"GET", "/deposits", "POST"},
	} {
		r := curl(t, "-X", c.method, base+acc+c.path)
		r.problem(t, c.method+" "+c.path, 405, bank.InvalidArgument)
		if got := r.header.Get("Allow"); got != c.allow {
			t.Fatalf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}

	// 504: the caller's deadline, passed in Request-Timeout, ran out on the
	// server.
	curl(t, base+string(slowAccount)+"/balance", "-H", "Request-Timeout: 100").
		problem(t, "call past its Request-Timeout", 504, bank.DeadlineExceeded)

	// 409, 503 and 500 as the bank reports them.
	for _, c := range []struct {
		code   bank.Code
		status int
	}{{bank.InFlight, 409}, {bank.Unavailable, 503}, {bank.Internal, 500}} {
		f.fail.Set(bank.Errorf(c.code, "injected"))
		r := deposit("inj-"+c.code.String(), `{"amount":1}`)
		r.problem(t, "deposit failing with "+c.code.String(), c.status, c.code)
		if retry := r.header.Get("Retry-After"); (c.code != bank.Internal) != (retry == "1") {
			t.Fatalf("%s: Retry-After %q", c.code, retry)
		}
		curl(t, base+acc+"/balance").problem(t, "balance failing with "+c.code.String(), c.status, c.code)
	}
	f.fail.Set(nil)

	// 401 and 403 from a server that takes bearer tokens, behind
	// auth.Authorize: customer-000000001 owns the account, and
	// customer-000000002 does not.
	fa, pki := startSecureServer(t, false)
	abase := fa.url + "/v1/accounts/" + acc
	owner, other := "Authorization: Bearer "+token(t, pki, 1), "Authorization: Bearer "+token(t, pki, 2)
	r = curl(t, abase+"/balance")
	r.problem(t, "no token", 401, bank.Unauthenticated)
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("401 without WWW-Authenticate: %v", r.header)
	}
	curl(t, abase+"/balance", "-H", "Authorization: Bearer wrong").problem(t, "wrong token", 401, bank.Unauthenticated)
	curl(t, abase+"/balance", "-H", owner).ok(t, "the owner reads", 200, "")
	curl(t, abase+"/balance", "-H", other).problem(t, "another customer reads", 403, bank.PermissionDenied)
	curl(t, "-X", "POST", abase+"/deposits", "-H", other, "-H", "Content-Type: application/json", "-H", "Idempotency-Key: auth-1", "-d", `{"amount":1}`).
		problem(t, "another customer deposits", 403, bank.PermissionDenied)
	curl(t, "-X", "POST", abase+"/deposits", "-H", owner, "-H", "Content-Type: application/json", "-H", "Idempotency-Key: auth-1", "-d", `{"amount":1}`).
		ok(t, "the owner deposits", 201, "")
}
