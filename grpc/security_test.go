package grpcbank_test

import (
	"context"
	"errors"
	"testing"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
	grpcbank "github.com/igbank/igbank/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestSecurity runs, over every variant, the whole conformance suite over
// mutual TLS as the teller, and the security section (mutual TLS, bearer
// tokens, a plaintext client, keys scoped to their principal).
func TestSecurity(t *testing.T) {
	for _, v := range grpcbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) {
			t.Run("Conformance", func(t *testing.T) { banktest.Run(t, banktest.Secure(v)) })
			banktest.RunSecurity(t, v, grpcbank.Transport.Tokens)
		})
	}
}

// Health needs no principal: behind auth.Authorize, over mutual TLS, the
// health service answers a client whose certificate names no account.
func TestHealthNeedsNoPrincipal(t *testing.T) {
	p := banktest.NewPKI(t)
	srv := grpcbank.NewServer(auth.Authorize(bank.NewService(ledger.NewMemory(10))), grpcbank.WithTLS(p.ServerTLS(t, true), tlsconf.Limits{}))
	addr := banktest.Serve(t, srv)
	c, err := grpcbank.Dial(context.Background(), addr, grpcbank.WithClientTLS(p.ClientTLS(t, "customer-000000002")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := healthpb.NewHealthClient(c.Conn()).Check(testCtx(t), &healthpb.HealthCheckRequest{Service: "igbank.v1.BankService"})
	if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health over mutual TLS: %v, %v", r, err)
	}
	if _, err := c.Balance(testCtx(t), ledger.SeedAccount(1)); !errors.Is(err, bank.ErrPermissionDenied) {
		t.Fatalf("another customer's balance: %v, want permission denied", err)
	}
}

// A bearer token is never sent in the clear: Dial refuses it without TLS.
func TestTokenNeedsTLS(t *testing.T) {
	if _, err := grpcbank.Dial(context.Background(), "127.0.0.1:1", grpcbank.WithToken("x")); !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("Dial with a token and no TLS: %v, want invalid argument", err)
	}
}

// The client checks the server's certificate: against a server whose
// certificate its CAs did not sign, calls fail as unavailable, and the
// IP address dialled must be one of the certificate's IP SANs.
func TestServerCertificateChecked(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := banktest.Serve(t, grpcbank.NewServer(bank.NewService(ledger.NewMemory(10)), grpcbank.WithTLS(p.ServerTLS(t, false), tlsconf.Limits{})))
	balance := func(addr string, opts ...grpcbank.ClientOption) error {
		c, err := grpcbank.Dial(context.Background(), addr, opts...)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Balance(testCtx(t), ledger.SeedAccount(1))
		return err
	}
	if err := balance(addr, grpcbank.WithClientTLS(p.ClientTLS(t, ""))); err != nil {
		t.Fatalf("a client trusting the server's CA: %v", err)
	}
	other := banktest.NewPKI(t)
	if err := balance(addr, grpcbank.WithClientTLS(other.ClientTLS(t, ""))); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("a client trusting another CA: %v, want unavailable", err)
	}
	named := p.ClientTLS(t, "")
	named.ServerName = "igbank.example" // not a name of the certificate
	if err := balance(addr, grpcbank.WithClientTLS(named)); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("a client expecting another server name: %v, want unavailable", err)
	}
}
