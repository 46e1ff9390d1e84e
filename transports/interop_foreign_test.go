package transports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	connectbank "github.com/igbank/igbank/connect"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

// foreignOutput is what interop/python/rawclient.py and
// interop/node/client.js print: one JSON object. Numbers are json.Number,
// which takes both the Python client's JSON numbers and the Node client's
// decimal strings (int64 does not fit a JavaScript number).
type foreignOutput struct {
	Health    string      `json:"health"` // the raw client only
	Balance   json.Number `json:"balance"`
	Statement struct {
		Pages   int           `json:"pages"`
		Opening json.Number   `json:"opening"`
		Closing json.Number   `json:"closing"`
		IDs     []json.Number `json:"ids"`
	} `json:"statement"`
	Deposit  foreignReceipt `json:"deposit"`
	Replay   foreignReceipt `json:"replay"`
	NotFound struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"not_found"`
}

type foreignReceipt struct {
	TransactionID json.Number `json:"transaction_id"`
	Balance       json.Number `json:"balance"`
	Replayed      bool        `json:"replayed"`
}

// needTool skips the test loudly when a tool of another language is
// missing, and fails it under CI (CI=true), where .ci/run installs it.
func needTool(t *testing.T, what, install string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing under CI (.ci/run installs it: %s)", what, install)
	}
	t.Skipf("\n\n*** SKIPPED: %s is missing (%s) ***\n\n", what, install)
}

// TestForeignClients runs clients written in other languages, from the
// specifications alone, against the real servers on 127.0.0.1: a
// stdlib-only Python client of the raw-sockets protocol (written from
// raw-sockets/PROTOCOL.md) against the raw server, and a Node client with
// @grpc/grpc-js (the proto loaded at run time) against the Connect
// server, which speaks gRPC. Each reads a balance, a statement in pages,
// makes a deposit and replays it, and asks for an account that does not
// exist; the raw client also asks for health. Their output is checked
// against the service itself.
func TestForeignClients(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python and Node")
	}
	// A clock that stands still, so that the statement's month is fixed.
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	svc := bank.NewService(ledger.NewMemory(10, ledger.WithClock(func() time.Time { return now })))
	month := bank.MonthOf(now)
	const seeded, pageSize = 5, 2 // three pages
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		for k := range seeded {
			if _, err := svc.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(i), Amount: bank.Money(100 + k), IdempotencyKey: fmt.Sprintf("seed-%d-%d", i, k)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("PythonRaw", func(t *testing.T) {
		python, err := exec.LookPath("python3")
		needTool(t, "python3", "apt-get install -y python3", err == nil)
		addr := banktest.Serve(t, rawbank.NewServer(svc))
		out := runForeign(t, python, filepath.Join("..", "interop", "python", "rawclient.py"), addr, ledger.SeedAccount(1), month, pageSize)
		if out.Health != "SERVING" {
			t.Errorf("health %q, want SERVING", out.Health)
		}
		checkForeign(t, svc, out, ledger.SeedAccount(1), month, pageSize, "not_found")
	})
	t.Run("NodeGRPCJS", func(t *testing.T) {
		node, err := exec.LookPath("node")
		needTool(t, "node", "apt-get install -y nodejs npm", err == nil)
		_, err = os.Stat(filepath.Join("..", "interop", "node", "node_modules", "@grpc", "grpc-js"))
		needTool(t, "interop/node/node_modules", "cd interop/node && npm ci", err == nil)
		addr := banktest.Serve(t, connectbank.NewServer(svc))
		out := runForeign(t, node, filepath.Join("..", "interop", "node", "client.js"), addr, ledger.SeedAccount(2), month, pageSize)
		checkForeign(t, svc, out, ledger.SeedAccount(2), month, pageSize, "NOT_FOUND")
	})
}

// runForeign runs a client's scenario and decodes what it printed.
func runForeign(t *testing.T, interpreter, script, addr string, acc bank.AccountNo, month bank.Month, pageSize int) foreignOutput {
	t.Helper()
	key := "foreign-" + string(acc)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(interpreter, script, addr, string(acc), string(month), key, strconv.Itoa(pageSize))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(interpreter), script, err, stdout.Bytes(), stderr.Bytes())
	}
	var out foreignOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%s: output %q: %v", script, stdout.Bytes(), err)
	}
	return out
}

// checkForeign compares a client's output with what the service says.
func checkForeign(t *testing.T, svc bank.Bank, out foreignOutput, acc bank.AccountNo, month bank.Month, pageSize int, notFound string) {
	t.Helper()
	ctx := context.Background()
	st, err := svc.Statement(ctx, bank.StatementRequest{Account: acc, Month: month, PageSize: bank.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	// The statement was read before the client's deposit.
	opening, closing := st.Opening, st.Closing
	var wantIDs []string
	for _, tx := range st.Transactions {
		if tx.IdempotencyKey != "foreign-"+string(acc) {
			wantIDs = append(wantIDs, strconv.FormatInt(tx.ID, 10))
		}
	}
	closing -= 150 // the client's deposit came after its statement
	wantPages := (len(wantIDs) + pageSize - 1) / pageSize
	if out.Balance.String() != fmt.Sprint(int64(closing)) {
		t.Errorf("balance %s, want %d", out.Balance, closing)
	}
	var gotIDs []string
	for _, id := range out.Statement.IDs {
		gotIDs = append(gotIDs, id.String())
	}
	if fmt.Sprint(gotIDs) != fmt.Sprint(wantIDs) || out.Statement.Pages != wantPages {
		t.Errorf("statement: %d pages, ids %v; want %d pages, ids %v", out.Statement.Pages, gotIDs, wantPages, wantIDs)
	}
	if out.Statement.Opening.String() != fmt.Sprint(int64(opening)) || out.Statement.Closing.String() != fmt.Sprint(int64(closing)) {
		t.Errorf("statement opening %s closing %s, want %d and %d", out.Statement.Opening, out.Statement.Closing, opening, closing)
	}
	bal, err := svc.Balance(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	d, r := out.Deposit, out.Replay
	if d.Replayed || d.Balance.String() != fmt.Sprint(int64(bal)) || int64(bal) != int64(closing)+150 {
		t.Errorf("deposit %+v; want balance %d (%d + 150), not replayed", d, bal, closing)
	}
	if !r.Replayed || r.TransactionID != d.TransactionID || r.Balance != d.Balance {
		t.Errorf("replay %+v of deposit %+v: want the same receipt, replayed", r, d)
	}
	if out.NotFound.Code != notFound || out.NotFound.Message == "" {
		t.Errorf("unknown account: %+v, want code %s and a message", out.NotFound, notFound)
	}
}
