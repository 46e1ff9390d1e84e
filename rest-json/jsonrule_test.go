package restbank_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	restbank "github.com/igbank/igbank/rest-json"
)

// The deposit body follows the workspace's JSON rule, case for case the
// same as Connect's JSON (banktest.JSONIntegers): an accepted amount is
// deposited, a refused one is 400 invalid_argument and changes nothing;
// an unknown member is refused too.
func TestJSONRule(t *testing.T) {
	b := bank.NewService(ledger.NewMemory(10))
	addr := banktest.Serve(t, restbank.NewServer(b))
	acc := ledger.SeedAccount(3)
	post := func(key, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/accounts/"+string(acc)+"/deposits", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	for i, c := range banktest.JSONIntegers {
		before, _ := b.Balance(context.Background(), acc)
		status, body := post(fmt.Sprintf("json-%d", i), `{"amount":`+c.Literal+`}`)
		after, _ := b.Balance(context.Background(), acc)
		switch {
		case c.OK && (status != http.StatusCreated || after != before+bank.Money(c.Value)):
			t.Errorf("amount %s: %d %s, balance %d → %d; want 201 and +%d", c.Literal, status, body, before, after, c.Value)
		case !c.OK && (status != http.StatusBadRequest || !strings.Contains(body, `"code":"invalid_argument"`) || after != before):
			t.Errorf("amount %s: %d %s, balance %d → %d; want 400 invalid_argument and no change", c.Literal, status, body, before, after)
		}
	}
	if status, body := post("json-unknown", `{"amount":1,"currency":"EUR"}`); status != http.StatusBadRequest {
		t.Errorf("unknown member: %d %s, want 400", status, body)
	}
}
