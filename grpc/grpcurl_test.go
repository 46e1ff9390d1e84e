package grpcbank_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/devcerts"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
	grpcbank "github.com/igbank/igbank/grpc"
)

// TestGRPCurl runs the README's grpcurl commands against a real server:
// the service is listed through reflection and Balance answers. CI
// installs grpcurl (.ci/run); elsewhere the test is skipped without it.
func TestGRPCurl(t *testing.T) {
	run := banktest.Grpcurl(t)
	addr := banktest.Serve(t, grpcbank.NewServer(bank.NewService(ledger.NewMemory(10))))

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

// TestGRPCurlTLS runs the README's grpcurl commands with TLS against a
// server with a client CA, in front of auth.Authorize: a customer's
// certificate reads its own balance, not another's, reflection and health
// need no more than the handshake, and a client without a certificate is
// refused at the handshake; then a bearer token in the call's metadata
// against a server that takes tokens.
func TestGRPCurlTLS(t *testing.T) {
	grpcurl, err := exec.LookPath("grpcurl")
	if err != nil {
		t.Skip("grpcurl is not on PATH; install it with: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4")
	}
	dir := t.TempDir()
	if err := devcerts.Write(dir, devcerts.DefaultPrincipals); err != nil {
		t.Fatal(err)
	}
	file := func(name string) string { return filepath.Join(dir, name) }
	cfg, err := tlsconf.Server(file(devcerts.ServerCert), file(devcerts.ServerKey), file(devcerts.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	addr := banktest.Serve(t, grpcbank.NewServer(auth.Authorize(bank.NewService(ledger.NewMemory(10))), grpcbank.WithTLS(cfg, tlsconf.Limits{})))
	run := func(args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, grpcurl, args...).CombinedOutput()
		return string(out), err
	}
	customer := "customer-000000001"
	mtls := []string{"-cacert", file(devcerts.CAFile), "-cert", file(devcerts.CertFile(customer)), "-key", file(devcerts.KeyFile(customer))}
	with := func(args ...string) []string { return append(mtls[:len(mtls):len(mtls)], args...) }

	out, err := run(with("-d", `{"account": "000000001"}`, addr, "igbank.v1.BankService/Balance")...)
	want := `"balanceCents": "` + strconv.FormatInt(int64(ledger.SeedBalance(1)), 10) + `"`
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("grpcurl Balance of the customer's own account: %v\n%s\nwant %s", err, out, want)
	}
	out, err = run(with("-d", `{"account": "000000002"}`, addr, "igbank.v1.BankService/Balance")...)
	if err == nil || !strings.Contains(out, "Code: PermissionDenied") {
		t.Fatalf("grpcurl Balance of another customer's account: %v\n%s\nwant PermissionDenied", err, out)
	}
	for what, want := range map[string]string{"list": "igbank.v1.BankService", "grpc.health.v1.Health/Check": "SERVING"} {
		if out, err := run(with(addr, what)...); err != nil || !strings.Contains(out, want) {
			t.Fatalf("grpcurl %s over mutual TLS: %v\n%s\nwant %s", what, err, out, want)
		}
	}
	out, err = run("-cacert", file(devcerts.CAFile), "-connect-timeout", "5", "-d", `{"account": "000000001"}`, addr, "igbank.v1.BankService/Balance")
	if err == nil || !strings.Contains(out, "certificate required") {
		t.Fatalf("grpcurl without a client certificate: %v\n%s\nwant the handshake refused (certificate required)", err, out)
	}

	// A bearer token in the call's metadata, against a server that
	// takes tokens and no client certificates.
	cfg, err = tlsconf.Server(file(devcerts.ServerCert), file(devcerts.ServerKey), "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := auth.LoadSigner(file(devcerts.TokenKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.LoadVerifier(file(devcerts.TokenPubFile))
	if err != nil {
		t.Fatal(err)
	}
	token, err := signer.Token(auth.Customer(ledger.SeedAccount(1)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	addr = banktest.Serve(t, grpcbank.NewServer(auth.Authorize(bank.NewService(ledger.NewMemory(10))),
		grpcbank.WithTLS(cfg, tlsconf.Limits{}), grpcbank.WithTokens(verifier)))
	out, err = run("-cacert", file(devcerts.CAFile), "-rpc-header", "authorization: Bearer "+token,
		"-d", `{"account": "000000001"}`, addr, "igbank.v1.BankService/Balance")
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("grpcurl Balance with the customer's token: %v\n%s\nwant %s", err, out, want)
	}
	out, err = run("-cacert", file(devcerts.CAFile), "-d", `{"account": "000000001"}`, addr, "igbank.v1.BankService/Balance")
	if err == nil || !strings.Contains(out, "Code: Unauthenticated") {
		t.Fatalf("grpcurl Balance without a token: %v\n%s\nwant Unauthenticated", err, out)
	}
}
