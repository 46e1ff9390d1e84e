package restbank_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"

	"github.com/igbank/igbank/common/bank"
	restbank "github.com/igbank/igbank/rest-json"
)

func newValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(restbank.OpenAPI)
	if err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("openapi.json is version %s, want 3.1", v)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi.json: %s: %s", e.Message, e.Reason)
		}
		t.FailNow()
	}
	return v
}

func checkResponse(t *testing.T, v validator.Validator, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := v.ValidateHttpResponse(req, resp); !ok {
		for _, e := range errs {
			t.Errorf("%s %s -> %d %s: %s: %s", req.Method, req.URL.Path, resp.StatusCode, body, e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("    %s", se.Error())
			}
		}
	}
}

// Every kind of response the running server gives conforms to openapi.json,
// and the document served at /openapi.json is the embedded one.
func TestOpenAPIResponses(t *testing.T) {
	v := newValidator(t)
	f := startServer(t)
	fa, pki := startSecureServer(t, false)
	type call struct {
		base, method, path, body string
		header                   map[string]string
		fail                     error // injected into the server's bank
		want                     int
	}
	ok := "/v1/accounts/000000001"
	calls := []call{
		{method: "GET", path: ok + "/balance", want: 200},
		{method: "POST", path: ok + "/deposits", body: `{"amount":1234}`, header: map[string]string{"Idempotency-Key": "oa-1"}, want: 201},
		{method: "POST", path: ok + "/deposits", body: `{"amount":1234}`, header: map[string]string{"Idempotency-Key": "oa-1"}, want: 201},
		{method: "GET", path: ok + "/statements/" + string(bank.MonthOf(timeNow())), want: 200},
		{method: "GET", path: ok + "/statements/2001-01", want: 200},
		{method: "POST", path: ok + "/deposits", body: `{"amount":1}`, header: map[string]string{"Idempotency-Key": "oa-0"}, want: 201},
		{method: "GET", path: ok + "/statements/" + string(bank.MonthOf(timeNow())) + "?page_size=1", want: 200},
		{method: "GET", path: ok + "/statements/" + string(bank.MonthOf(timeNow())) + "?page_size=one", want: 400},
		{method: "GET", path: ok + "/statements/" + string(bank.MonthOf(timeNow())) + "?page_token=bogus", want: 400},
		{method: "GET", path: "/v1/accounts/000000999/balance", want: 404},
		{method: "GET", path: "/v1/accounts/12345/balance", want: 400},
		{method: "GET", path: ok + "/statements/2026-13", want: 400},
		{method: "POST", path: ok + "/deposits", body: `{"amount":1.5}`, header: map[string]string{"Idempotency-Key": "oa-2"}, want: 400},
		{method: "POST", path: ok + "/deposits", body: `{"amount":5}`, want: 400},
		{method: "POST", path: ok + "/deposits", body: `{"amount":999}`, header: map[string]string{"Idempotency-Key": "oa-1"}, want: 422},
		{method: "DELETE", path: ok + "/balance", want: 405},
		{method: "GET", path: ok + "/deposits", want: 405},
		{method: "GET", path: "/v1/accounts/" + string(slowAccount) + "/balance", header: map[string]string{"Request-Timeout": "50"}, want: 504},
		{method: "GET", path: ok + "/balance", fail: bank.Errorf(bank.Unavailable, "down"), want: 503},
		{method: "POST", path: ok + "/deposits", body: `{"amount":5}`, header: map[string]string{"Idempotency-Key": "oa-3"}, fail: bank.Errorf(bank.InFlight, "busy"), want: 409},
		{method: "GET", path: ok + "/balance", fail: bank.Errorf(bank.Internal, "bug"), want: 500},
		{base: fa.url, method: "GET", path: ok + "/balance", want: 401},
		{base: fa.url, method: "POST", path: ok + "/deposits", body: `{"amount":5}`, header: map[string]string{"Idempotency-Key": "oa-4", "Authorization": "Bearer " + token(t, pki, 2)}, want: 403},
		{base: fa.url, method: "GET", path: ok + "/balance", header: map[string]string{"Authorization": "Bearer " + token(t, pki, 1)}, want: 200},
		{method: "GET", path: "/openapi.json", want: 200},
	}
	for _, c := range calls {
		if c.base == "" {
			c.base = f.url
		}
		f.fail.Set(c.fail)
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, err := http.NewRequest(c.method, c.base+c.path, body)
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: status %d %s, want %d", c.method, c.path, resp.StatusCode, got, c.want)
			continue
		}
		if c.path == "/openapi.json" && !bytes.Equal(got, restbank.OpenAPI) {
			t.Errorf("/openapi.json is not the embedded document")
		}
		if resp.StatusCode == http.StatusMethodNotAllowed {
			// OpenAPI describes the operations that exist; the 405 of a
			// method that does not is documented under the path's own
			// operation, the first one in Allow.
			req = req.Clone(req.Context())
			req.Method, _, _ = strings.Cut(resp.Header.Get("Allow"), ",")
		}
		checkResponse(t, v, req, resp, got)
	}
	f.fail.Set(nil)
}

// The validation can fail: responses that break the document are caught.
func TestOpenAPIValidatorCatchesBadResponses(t *testing.T) {
	v := newValidator(t)
	for _, bad := range []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json", `{"account":"000000001","balance":100.5}`},
		{200, "application/json", `{"account":"000000001","balance":"100"}`},
		{200, "application/json", `{"account":"000000001"}`},
		{404, "application/problem+json", `{"type":"about:blank","title":"Not Found","status":404,"code":"gone"}`},
		{404, "application/problem+json", `{"type":"about:blank","title":"Not Found","status":404}`},
	} {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:7004/v1/accounts/000000001/balance", nil)
		resp := &http.Response{StatusCode: bad.status, Header: http.Header{"Content-Type": {bad.ct}},
			Body: io.NopCloser(strings.NewReader(bad.body)), Request: req}
		if ok, _ := v.ValidateHttpResponse(req, resp); ok {
			t.Errorf("response %d %s passed validation", bad.status, bad.body)
		}
	}
}
