package banktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/transport"
)

// LogBuffer is an io.Writer that collects a logger's output, safe for the
// server's goroutines to write while a test reads it.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// RunHiddenCause checks, through a real server of v on loopback, that a
// call failing with an error whose cause the server keeps from the client
// (an error that is not a bank error: the client gets internal and no
// cause) logs that cause server-side, as one JSON record of the server's
// logger (transport.ServerConfig.Logger) with the keys of package logs:
// transport, op, account, code and err.
func RunHiddenCause(t *testing.T, v transport.Variant) {
	const cause = "store: connection to 10.9.8.7:5432 reset"
	var out LogBuffer
	logger, err := logs.New(&out, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	f := &Failing{Bank: bank.NewService(ledger.NewMemory(10))}
	f.Set(errors.New(cause))
	addr := Serve(t, v.NewServer(f, transport.ServerConfig{Logger: logger}))
	c := dialVariant(t, v, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	acc := ledger.SeedAccount(3)
	_, err = c.Balance(ctx, acc)
	if bank.CodeOf(err) != bank.Internal {
		t.Fatalf("balance over a failing store: %v (code %v), want internal", err, bank.CodeOf(err))
	}
	if strings.Contains(err.Error(), "10.9.8.7") {
		t.Fatalf("the client was told the hidden cause: %v", err)
	}
	var found bool
	for line := range strings.Lines(out.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec[logs.Err] != cause {
			continue
		}
		found = true
		want := map[string]any{logs.Op: "balance", logs.Account: string(acc), logs.Code: "internal", "level": "ERROR"}
		for k, w := range want {
			if rec[k] != w {
				t.Errorf("log record %s: %s = %v, want %v", strings.TrimSpace(line), k, rec[k], w)
			}
		}
		if s, _ := rec[logs.Transport].(string); s == "" {
			t.Errorf("log record %s has no %s", strings.TrimSpace(line), logs.Transport)
		}
		if _, ok := rec[logs.Duration]; !ok {
			t.Errorf("log record %s has no %s", strings.TrimSpace(line), logs.Duration)
		}
	}
	if !found {
		t.Fatalf("no log record with %s=%q; the server logged:\n%s", logs.Err, cause, out.String())
	}
}
