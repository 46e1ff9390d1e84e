package connectbank_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	connectbank "github.com/igbank/igbank/connect"
)

// Connect's JSON follows the workspace's JSON rule, case for case the same
// as rest-json (banktest.JSONIntegers): an accepted amount is deposited, a
// refused one is invalid_argument and changes nothing; an unknown member
// is refused too (connect-go's default codec would discard it, and would
// take 1e2 and 100.0 for 100).
func TestJSONRule(t *testing.T) {
	b := bank.NewService(ledger.NewMemory(10))
	addr := banktest.Serve(t, connectbank.NewServer(b))
	acc := ledger.SeedAccount(3)
	post := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/igbank.v1.BankService/Deposit", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
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
		status, body := post(fmt.Sprintf(`{"account":"%s","amountCents":%s,"idempotencyKey":"json-%d"}`, acc, c.Literal, i))
		after, _ := b.Balance(context.Background(), acc)
		switch {
		case c.OK && (status != http.StatusOK || after != before+bank.Money(c.Value)):
			t.Errorf("amount %s: %d %s, balance %d → %d; want 200 and +%d", c.Literal, status, body, before, after, c.Value)
		case !c.OK && (status != http.StatusBadRequest || !strings.Contains(body, `"code":"invalid_argument"`) || after != before):
			t.Errorf("amount %s: %d %s, balance %d → %d; want 400 invalid_argument and no change", c.Literal, status, body, before, after)
		}
	}
	if status, body := post(fmt.Sprintf(`{"account":"%s","amountCents":"1","idempotencyKey":"json-u","currency":"EUR"}`, acc)); status != http.StatusBadRequest {
		t.Errorf("unknown member: %d %s, want 400", status, body)
	}
}

// A request body that stops arriving is deadline_exceeded (504, Connect's
// status for it) when the server's read timeout passes, and the error
// names no socket address.
func TestSlowBodyIsDeadlineWithoutAddresses(t *testing.T) {
	addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10)),
		connectbank.WithTimeouts(transport.Timeouts{Read: 300 * time.Millisecond})))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "POST /igbank.v1.BankService/Balance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n{\"account\":")
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), `"deadline_exceeded"`) || strings.Contains(string(body), "127.0.0.1") {
		t.Fatalf("%d %s, want 504 deadline_exceeded naming no address", resp.StatusCode, body)
	}
}
