package restbank

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// The problem's detail is bank.Detail for every code (the cause included,
// not only for invalid_argument, but never the cause of the server's own
// failures), so the client's error reads as the server's.
func TestProblemDetailIsDetail(t *testing.T) {
	cause := errors.New("connection refused")
	for _, c := range bank.Codes() {
		for _, err := range []*bank.Error{
			{Code: c, Message: "store down"},
			{Code: c, Err: cause},
			{Code: c, Message: "store down", Err: cause},
		} {
			w := httptest.NewRecorder()
			writeError(w, err)
			got := decodeProblem(w.Code, w.Header().Get("Content-Type"), w.Body.Bytes())
			want := bank.FromCode(c, bank.Detail(err)).Error()
			if bank.CodeOf(got) != c || got.Error() != want {
				t.Errorf("%q came back as %q; body %s", err, got, w.Body)
			}
		}
	}
	w := httptest.NewRecorder()
	writeError(w, errors.New("boom"))
	if got := decodeProblem(w.Code, w.Header().Get("Content-Type"), w.Body.Bytes()); got.Error() != "internal" {
		t.Errorf("a plain error came back as %q; body %s", got, w.Body)
	}
}

// A deposit whose body stops arriving is 408 with code deadline_exceeded
// when the server's read timeout passes: neither 499 (the failed read also
// cancels the request's context, but the client did not cancel) nor a text
// naming the connection.
func TestSlowBodyIs408(t *testing.T) {
	addr := banktest.Serve(t, NewServer(bank.NewService(ledger.NewMemory(10)), WithTimeouts(transport.Timeouts{Read: 300 * time.Millisecond})))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "POST /v1/accounts/%s/deposits HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: slow-1\r\nContent-Length: 20\r\n\r\n{\"amount\":", ledger.SeedAccount(1))
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408; body %s", resp.StatusCode, body)
	}
	got := decodeProblem(resp.StatusCode, resp.Header.Get("Content-Type"), body)
	if !errors.Is(got, bank.ErrDeadlineExceeded) || strings.Contains(string(body), "127.0.0.1") {
		t.Fatalf("problem %s, want deadline_exceeded naming no address", body)
	}
}
