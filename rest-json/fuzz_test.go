package restbank

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/igbank/igbank/common/bank"
)

// FuzzDecodeDeposit: the deposit body decoder never panics, and what it
// accepts is a JSON object whose only member is "amount", an integer
// (written as a JSON integer or a string of one) that encoding/json reads
// the same, and that the client's encoder reproduces.
func FuzzDecodeDeposit(f *testing.F) {
	for _, s := range []string{
		`{"amount":100}`, ` { "amount" : 100 } `, `{"amount":100.0}`, `{"amount":1e2}`, `{"amount":"100"}`,
		`{"amount":1,"amount":2}`, `{"Amount":1}`, `{"amount":1}{}`, `{"amount":null}`, `{}`, `[]`, ``,
		`{"amount":-9223372036854775808}`, `{"amount":9223372036854775808}`, `{"amount":1,"x":2}`, "{\"amount\":1}\n",
		`{"amount":01}`, `{"amount":-0}`, `{"amo\u0075nt":5}`, "\xef\xbb\xbf{\"amount\":1}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		amount, err := decodeDeposit(body)
		if err != nil {
			if !errors.Is(err, bank.ErrInvalidArgument) {
				t.Fatalf("decodeDeposit(%q) error %v is not InvalidArgument", body, err)
			}
			return
		}
		var m map[string]stdjson.RawMessage
		if err := stdjson.Unmarshal(body, &m); err != nil || len(m) != 1 {
			t.Fatalf("decodeDeposit accepted %q, which is not a one-member object: %v", body, err)
		}
		lit := []byte(m["amount"])
		var s string
		if stdjson.Unmarshal(lit, &s) == nil {
			lit = []byte(s) // the string form
		}
		var n int64
		if err := stdjson.Unmarshal(lit, &n); err != nil || bank.Money(n) != amount || bytes.ContainsAny(lit, ".eE+ ") {
			t.Fatalf("decodeDeposit(%q) = %d; encoding/json reads %d, %v", body, amount, n, err)
		}
		if again, err := decodeDeposit(appendDeposit(nil, amount)); err != nil || again != amount {
			t.Fatalf("round trip of %d: %d, %v", amount, again, err)
		}
	})
}

// recorder is a bank that remembers what it was asked.
type recorder struct {
	acc   bank.AccountNo
	month bank.Month
	req   bank.StatementRequest
}

func (r *recorder) Balance(_ context.Context, acc bank.AccountNo) (bank.Money, error) {
	r.acc = acc
	return 1, nil
}

func (r *recorder) Statement(_ context.Context, req bank.StatementRequest) (bank.Statement, error) {
	r.acc, r.month, r.req = req.Account, req.Month, req
	return bank.Statement{Account: req.Account, Month: req.Month}, nil
}

func (r *recorder) Deposit(_ context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	r.acc = req.Account
	return bank.DepositReceipt{TransactionID: 1, Balance: req.Amount}, nil
}

// handlerTransport sends the client's requests straight to a handler.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, req)
	return w.Result(), nil
}

// FuzzPath: whatever account and month a caller passes, the client's path
// escaping and the server's path parsing hand the bank exactly those
// strings (or the client refuses them as InvalidArgument), and nothing
// panics. The month doubles as a page token and its length as a page
// size, to check the query's escaping the same way.
func FuzzPath(f *testing.F) {
	for _, s := range [][2]string{
		{"000000001", "2026-01"}, {"", ""}, {".", ".."}, {"a/b", "2026/01"}, {"%2F", "%"}, {"00000 001", "2026-01?x=1"},
		{"٠٠٠٠٠٠٠٠١", "2026-01#frag"}, {"a\x00b", "\n"}, {"../../openapi.json", "x"}, {"\xff", "//"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, acc, month string) {
		rec := &recorder{}
		c, err := Dial(context.Background(), "127.0.0.1:1", WithRoundTripper(handlerTransport{NewServer(rec).Handler()}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Statement(context.Background(), bank.StatementRequest{Account: bank.AccountNo(acc), Month: bank.Month(month), PageToken: month, PageSize: len(month)})
		if err != nil {
			if !errors.Is(err, bank.ErrInvalidArgument) {
				t.Fatalf("Statement(%q, %q): %v", acc, month, err)
			}
			return
		}
		if rec.acc != bank.AccountNo(acc) || rec.month != bank.Month(month) || rec.req.PageToken != month || rec.req.PageSize != len(month) {
			t.Fatalf("Statement(%q, %q) reached the bank as %+v", acc, month, rec.req)
		}
	})
}

// FuzzHandlerPath: any method and raw path sent to the server gets a
// response, never a panic, and every error is a problem+json body whose
// code a client can read.
func FuzzHandlerPath(f *testing.F) {
	for _, s := range [][2]string{
		{"GET", "/v1/accounts/000000001/balance"}, {"POST", "/v1/accounts/000000001/balance"},
		{"GET", "/v1/accounts/%2F/statements/%2F"}, {"GET", "/v1/accounts//balance"}, {"PUT", "/"},
		{"DELETE", "/v1/accounts/000000001/deposits"}, {"GET", "/openapi.json"}, {"OPTIONS", "*"},
	} {
		f.Add(s[0], s[1])
	}
	h := NewServer(&recorder{}).Handler()
	f.Fuzz(func(t *testing.T, method, target string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n") || !utf8.ValidString(method) || target == "" || target[0] != '/' {
			return
		}
		req, err := http.NewRequest(method, "http://x"+target, strings.NewReader(`{"amount":1}`))
		if err != nil {
			return
		}
		req.Header.Set(headerKey, "k")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code < 400 {
			return // a success, or ServeMux's redirect of an unclean path
		}
		err = decodeProblem(w.Code, w.Header().Get("Content-Type"), w.Body.Bytes())
		var be *bank.Error
		if !errors.As(err, &be) || w.Header().Get("Content-Type") != contentProblem {
			t.Fatalf("%s %s: %d %q %s", method, target, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		if be.Code == bank.Internal {
			t.Fatalf("%s %s: internal error %v", method, target, err)
		}
	})
}

// FuzzDecodeProblem: the client's problem+json decoder never panics and
// always yields a bank error with a code other than OK; a well-formed
// problem keeps its code.
func FuzzDecodeProblem(f *testing.F) {
	f.Add(404, contentProblem, string(appendProblemStatus(nil, 404, bank.NotFound, "no such account")))
	f.Add(409, contentProblem+"; charset=utf-8", `{"code":"in_flight","detail":"busy"}`)
	f.Add(500, contentProblem, `{"code":"ok"}`)
	f.Add(500, contentProblem, `{"code":"martian"}`)
	f.Add(502, "text/html", `<html>bad gateway</html>`)
	f.Add(503, contentProblem, `{"code":`)
	f.Add(418, "", ``)
	f.Add(400, "APPLICATION/PROBLEM+JSON", `{"code":"invalid_argument","detail":"\ud800"}`)
	f.Fuzz(func(t *testing.T, status int, ct, body string) {
		err := decodeProblem(status, ct, []byte(body))
		var be *bank.Error
		if !errors.As(err, &be) || be.Code == bank.OK || be.Code > bank.Canceled {
			t.Fatalf("decodeProblem(%d, %q, %q) = %v", status, ct, body, err)
		}
		if len(be.Message) > 1024 {
			t.Fatalf("message of %d bytes", len(be.Message))
		}
	})
}

// FuzzProblemRoundTrip: what the server writes for any code and detail,
// the client reads back as that code and detail.
func FuzzProblemRoundTrip(f *testing.F) {
	f.Add(uint8(1), "account 000000999 does not exist")
	f.Add(uint8(9), "\x00\xff\"\\\u2028")
	f.Fuzz(func(t *testing.T, code uint8, detail string) {
		c := bank.Code(code%uint8(bank.Canceled)) + 1
		body := appendProblemStatus(nil, statusOf(c), c, detail)
		err := decodeProblem(statusOf(c), contentProblem, body)
		var be *bank.Error
		if !errors.As(err, &be) || be.Code != c || be.Message != strings.ToValidUTF8(detail, "\uFFFD") {
			t.Fatalf("code %v detail %q: body %s read back as %v", c, detail, body, err)
		}
	})
}

// FuzzParseRetryAfter: the Retry-After parser never panics, never gives
// a negative wait, and reads back the whole seconds the server writes.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"1", "120", " 3 ", "-1", "1.5", "", "Thu, 05 Nov 2026 12:00:30 GMT", "Wed, 04 Nov 2026 12:00:00 GMT", "99999999999999999999", "Sunday, 06-Nov-94 08:49:37 GMT"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
		if n, err := strconv.ParseUint(v, 10, 32); err == nil && (!ok || d != time.Duration(n)*time.Second) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v; want %ds", v, d, ok, n)
		}
	})
}

// FuzzRetryAfterRoundTrip: a hint the server writes comes back to the
// client to the millisecond in the problem, and never shorter in the
// header's whole seconds.
func FuzzRetryAfterRoundTrip(f *testing.F) {
	f.Add(int64(1))
	f.Add(int64(999_999))
	f.Add(int64(1_000_000_000))
	f.Fuzz(func(t *testing.T, ns int64) {
		if ns <= 0 || ns > int64(bank.MaxRetryAfter) {
			return
		}
		hint := time.Duration(ns)
		w := httptest.NewRecorder()
		writeError(w, bank.WithRetryAfter(bank.Errorf(bank.Unavailable, "overloaded"), hint))
		err := decodeProblem(w.Code, w.Header().Get("Content-Type"), w.Body.Bytes())
		got, ok := bank.RetryAfter(err)
		want := max(hint.Truncate(time.Millisecond), time.Millisecond)
		if !ok || got != want || !errors.Is(err, bank.ErrUnavailable) {
			t.Fatalf("hint %v came back as %v, %v (%v)", hint, got, ok, err)
		}
		h, ok := parseRetryAfter(w.Header().Get("Retry-After"), time.Now())
		if !ok || h < hint || h < time.Second {
			t.Fatalf("hint %v: Retry-After %q", hint, w.Header().Get("Retry-After"))
		}
	})
}

// A proxy's 503 in plain text gives its Retry-After as the hint; IGBank's
// own 503 without a hint of its own (the generic 1 second) gives none.
func TestHeaderHint(t *testing.T) {
	proxy := withHeaderHint(decodeProblem(503, "text/html", []byte("<h1>busy</h1>")), "2")
	if d, ok := bank.RetryAfter(proxy); !ok || d != 2*time.Second || !errors.Is(proxy, bank.ErrUnavailable) {
		t.Fatalf("proxy 503 with Retry-After: 2: %v (hint %v, %v)", proxy, d, ok)
	}
	w := httptest.NewRecorder()
	writeError(w, bank.Errorf(bank.Unavailable, "store down"))
	own := withHeaderHint(decodeProblem(w.Code, w.Header().Get("Content-Type"), w.Body.Bytes()), w.Header().Get("Retry-After"))
	if d, ok := bank.RetryAfter(own); ok || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("IGBank 503 without a hint: hint %v, Retry-After %q", d, w.Header().Get("Retry-After"))
	}
}
