package connectbank_test

import (
	"strings"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	connectbank "github.com/igbank/igbank/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Every protocol's client sees SERVING, then not serving once Shutdown
// has begun.
func TestHealth(t *testing.T) {
	for _, v := range connectbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) { banktest.RunHealth(t, v) })
	}
}

// grpc-go's own health client (what grpc_health_probe and Kubernetes'
// gRPC probe use) against the Connect server: the server as a whole and
// the bank service are SERVING, an unknown service is NotFound.
func TestHealthWithGRPCGoClient(t *testing.T) {
	addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10))))
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", "igbank.v1.BankService"} {
		r, err := h.Check(testCtx(t), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health of %q: %v, %v; want SERVING", svc, r, err)
		}
	}
	if _, err := h.Check(testCtx(t), &healthpb.HealthCheckRequest{Service: "no.such.Service"}); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("health of an unknown service: %v, want NotFound", err)
	}
}

// TestGRPCurlHealth runs the README's grpcurl health check against the
// Connect server: grpc.health.v1 is listed through reflection and Check
// answers SERVING. CI installs grpcurl (.ci/run); elsewhere the test is
// skipped without it.
func TestGRPCurlHealth(t *testing.T) {
	run := banktest.Grpcurl(t)
	addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10))))
	if list := run("-plaintext", addr, "list"); !strings.Contains(list, "grpc.health.v1.Health") {
		t.Errorf("grpcurl list does not show grpc.health.v1.Health:\n%s", list)
	}
	if out := run("-plaintext", addr, "grpc.health.v1.Health/Check"); !strings.Contains(out, `"status": "SERVING"`) {
		t.Fatalf("grpcurl health check: %s", out)
	}
}

// TestHiddenCause: over every variant, the cause of an internal error is
// logged, not sent (banktest.RunHiddenCause).
func TestHiddenCause(t *testing.T) {
	for _, v := range connectbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) { banktest.RunHiddenCause(t, v) })
	}
}
