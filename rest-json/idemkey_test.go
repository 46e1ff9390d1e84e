package restbank_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/ledger"
)

// The IETF draft's structured-field form of Idempotency-Key ("k1") and the
// bare token (k1) are one key: whichever comes second replays the first
// deposit; a malformed String is 400 and applies nothing.
func TestIdempotencyKeyForms(t *testing.T) {
	f := startServer(t)
	acc := string(ledger.SeedAccount(3))
	deposit := func(key string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", f.url+"/v1/accounts/"+acc+"/deposits", strings.NewReader(`{"amount":700}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header["Idempotency-Key"] = []string{key}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), string(b)
	}
	balance := func() string {
		t.Helper()
		resp, err := http.Get(f.url + "/v1/accounts/" + acc + "/balance")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	before := balance()
	for _, bad := range []string{`"k1`, `"k\1"`, `"k1"x`} {
		if st, _, body := deposit(bad); st != 400 || !strings.Contains(body, "invalid_argument") {
			t.Fatalf("Idempotency-Key %s: %d %s, want 400 invalid_argument", bad, st, body)
		}
	}
	if balance() != before {
		t.Fatal("a refused key changed the balance")
	}
	st1, rep1, body1 := deposit(`"k1"`)
	st2, rep2, body2 := deposit(`k1`)
	st3, rep3, body3 := deposit(`"k1"`)
	if st1 != 201 || rep1 != "" || st2 != 201 || rep2 != "true" || st3 != 201 || rep3 != "true" || body1 != body2 || body2 != body3 {
		t.Fatalf(`"k1" then k1 then "k1": %d %q %s / %d %q %s / %d %q %s; want one deposit replayed twice`, st1, rep1, body1, st2, rep2, body2, st3, rep3, body3)
	}
	// The escapes: "a\"b" is the key a"b.
	if st, _, _ := deposit(`"a\"b"`); st != 201 {
		t.Fatalf(`"a\"b": %d`, st)
	}
	if st, rep, _ := deposit(`a"b`); st != 201 || rep != "true" {
		t.Fatalf(`a"b after "a\"b": %d %q, want a replay`, st, rep)
	}
}
