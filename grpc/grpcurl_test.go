package grpcbank_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	grpcbank "github.com/igbank/igbank/grpc"
)

// TestGRPCurl runs the README's grpcurl commands against a real server:
// the service is listed through reflection and Balance answers. CI
// installs grpcurl (.ci/run); elsewhere the test is skipped without it.
func TestGRPCurl(t *testing.T) {
	grpcurl, err := exec.LookPath("grpcurl")
	if err != nil {
		t.Skip("grpcurl is not on PATH; install it with: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4")
	}
	addr := banktest.Serve(t, grpcbank.NewServer(bank.NewService(ledger.NewMemory(10))))
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, grpcurl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("grpcurl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	list := run("-plaintext", addr, "list")
	for _, svc := range []string{"igbank.v1.BankService", "grpc.health.v1.Health"} {
		if !strings.Contains(list, svc) {
			t.Errorf("grpcurl list does not show %s:\n%s", svc, list)
		}
	}

	out := run("-plaintext", "-d", `{"account": "000000007"}`, addr, "igbank.v1.BankService/Balance")
	var resp struct {
		BalanceCents string `json:"balanceCents"` // protobuf JSON writes int64 as a string
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("grpcurl Balance output %q: %v", out, err)
	}
	if got, err := strconv.ParseInt(resp.BalanceCents, 10, 64); err != nil || bank.Money(got) != ledger.SeedBalance(7) {
		t.Fatalf("grpcurl Balance = %q, want %d", resp.BalanceCents, ledger.SeedBalance(7))
	}

	health := run("-plaintext", addr, "grpc.health.v1.Health/Check")
	if !strings.Contains(health, "SERVING") {
		t.Fatalf("grpcurl health check: %s", health)
	}
}
