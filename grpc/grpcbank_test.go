package grpcbank_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	grpcbank "github.com/igbank/igbank/grpc"
	"github.com/igbank/igbank/proto/igbankv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func newServer(b bank.Bank) transport.Server { return grpcbank.NewServer(b) }

func dial(ctx context.Context, addr string) (transport.Client, error) {
	return grpcbank.Dial(ctx, addr)
}

func TestConformance(t *testing.T) {
	banktest.Run(t, banktest.Transport(newServer, dial))
}

func BenchmarkGRPC(b *testing.B) {
	banktest.Benchmark(b, banktest.Transport(newServer, dial))
}

// start serves b and returns a client of it.
func start(t *testing.T, b bank.Bank) (*grpcbank.Client, string) {
	t.Helper()
	addr := banktest.Serve(t, grpcbank.NewServer(b))
	c, err := grpcbank.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, addr
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type panicking struct{ bank.Bank }

func (panicking) Balance(context.Context, bank.AccountNo) (bank.Money, error) { panic("boom") }

// A panicking handler costs its caller an Internal error, nothing more.
func TestHandlerPanicIsInternal(t *testing.T) {
	c, _ := start(t, panicking{bank.NewService(ledger.NewMemory(10))})
	_, err := c.Balance(testCtx(t), ledger.SeedAccount(1))
	if !errors.Is(err, bank.ErrInternal) || !strings.Contains(err.Error(), "panic in") || strings.Contains(err.Error(), "boom") {
		t.Fatalf("Balance of a panicking server: %v, want internal naming the panic but not its value", err)
	}
	if _, err := c.Statement(testCtx(t), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"}); err != nil {
		t.Fatalf("the server did not survive the panic: %v", err)
	}
}

// The wire status carries the gRPC code of the mapping table, so that any
// gRPC client (not only ours) sees NotFound, FailedPrecondition, ...
func TestWireStatusCodes(t *testing.T) {
	f := &banktest.Failing{Bank: bank.NewService(ledger.NewMemory(10))}
	c, _ := start(t, f)
	rpc := igbankv1.NewBankServiceClient(c.Conn())
	for bc, want := range map[bank.Code]codes.Code{
		bank.NotFound: codes.NotFound, bank.InvalidArgument: codes.InvalidArgument,
		bank.IdempotencyKeyReuse: codes.FailedPrecondition, bank.InFlight: codes.Aborted,
		bank.Unavailable: codes.Unavailable, bank.DeadlineExceeded: codes.DeadlineExceeded,
		bank.Unauthenticated: codes.Unauthenticated, bank.PermissionDenied: codes.PermissionDenied,
		bank.Internal: codes.Internal,
	} {
		f.Set(bank.Errorf(bc, "injected"))
		_, err := rpc.Balance(testCtx(t), &igbankv1.BalanceRequest{Account: "000000001"})
		if got := status.Code(err); got != want {
			t.Errorf("bank code %v went on the wire as %v, want %v", bc, got, want)
		}
	}
}

func TestHealthAndReflectionRegistered(t *testing.T) {
	c, _ := start(t, bank.NewService(ledger.NewMemory(10)))
	h := healthpb.NewHealthClient(c.Conn())
	for _, svc := range []string{"", "igbank.v1.BankService"} {
		r, err := h.Check(testCtx(t), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health of %q: %v, %v; want SERVING", svc, r, err)
		}
	}
	info := grpcbank.NewServer(bank.NewService(ledger.NewMemory(1))).GRPCServer().GetServiceInfo()
	for _, svc := range []string{"igbank.v1.BankService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if _, ok := info[svc]; !ok {
			t.Errorf("service %s is not registered", svc)
		}
	}
}

// A request over the size limit is refused with a typed error and the
// server goes on serving.
func TestOversizedRequest(t *testing.T) {
	c, _ := start(t, bank.NewService(ledger.NewMemory(10)))
	rpc := igbankv1.NewBankServiceClient(c.Conn())
	big := strings.Repeat("k", grpcbank.MaxRequestBytes+1)
	_, err := rpc.Deposit(testCtx(t), &igbankv1.DepositRequest{Account: "000000001", AmountCents: 1, IdempotencyKey: big},
		grpc.MaxCallSendMsgSize(1<<20))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized deposit: %v, want ResourceExhausted", err)
	}
	if _, err := c.Balance(testCtx(t), ledger.SeedAccount(1)); err != nil {
		t.Fatalf("after an oversized request: %v", err)
	}
	// Our own client refuses before sending, and says it is bad input.
	_, err = c.Deposit(testCtx(t), bank.DepositRequest{Account: "000000001", Amount: 1, IdempotencyKey: "bad\xff"})
	if !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("deposit with a key that is not UTF-8: %v, want invalid argument", err)
	}
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := grpcbank.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Not wait-for-ready: the call fails fast instead of waiting out the
	// deadline.
	_, err = c.Balance(testCtx(t), ledger.SeedAccount(1))
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Balance on a closed port: %v, want unavailable", err)
	}
}

// callDuringShutdown serves a bank that holds every call for delay, starts
// one Balance through a real client, waits for it to reach the server and
// returns the server, the call's result and Serve's result.
func callDuringShutdown(t *testing.T, delay time.Duration) (srv *grpcbank.Server, res, served <-chan error) {
	t.Helper()
	slow := &banktest.Slow{Bank: bank.NewService(ledger.NewMemory(10)), Delay: delay}
	t.Cleanup(slow.Release)
	srv = grpcbank.NewServer(slow)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	servedc := make(chan error, 1)
	go func() { servedc <- srv.Serve(l) }()
	c, err := grpcbank.Dial(context.Background(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	resc := make(chan error, 1)
	go func() {
		_, err := c.Balance(testCtx(t), ledger.SeedAccount(1))
		resc <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the call reach the server
	return srv, resc, servedc
}

// Shutdown lets a call in progress finish, and new calls are refused.
func TestShutdownLetsCallsFinish(t *testing.T) {
	srv, res, served := callDuringShutdown(t, 300*time.Millisecond)
	if err := srv.Shutdown(testCtx(t)); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-res; err != nil {
		t.Fatalf("call in progress at Shutdown: %v, want it to finish", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after Shutdown: %v, want nil", err)
	}
}

// Shutdown with an expired context cuts the calls still running.
func TestShutdownDeadline(t *testing.T) {
	srv, res, served := callDuringShutdown(t, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want deadline exceeded", err)
	}
	if err := <-res; !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("call cut by Shutdown: %v, want unavailable", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after Shutdown: %v, want nil", err)
	}
}

// TestAdmission runs the admission section (a flood of idle connections,
// the first-request deadline, a server full of busy connections).
func TestAdmission(t *testing.T) {
	banktest.RunAdmission(t, grpcbank.Transport.Variants[0])
}

// Dial connects at once; a client that calls only after the server closed
// that connection for want of a first call (Timeouts.FirstRequest)
// reconnects for its call, which is served.
func TestFirstCallAfterFirstRequestDeadline(t *testing.T) {
	const first = 300 * time.Millisecond
	addr := banktest.Serve(t, grpcbank.NewServer(bank.NewService(ledger.NewMemory(10)),
		grpcbank.WithTimeouts(transport.Timeouts{FirstRequest: first})))
	c, err := grpcbank.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(3 * first)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if m, err := c.Balance(ctx, ledger.SeedAccount(1)); err != nil || m != ledger.SeedBalance(1) {
		t.Fatalf("first call after the connection was closed unused: %v, %v", m, err)
	}
}

// The health check SERVING, then not serving once Shutdown has begun.
func TestHealth(t *testing.T) { banktest.RunHealth(t, grpcbank.Transport.Variants[0]) }

// TestHiddenCause: the cause of an internal error is logged, not sent
// (banktest.RunHiddenCause).
func TestHiddenCause(t *testing.T) { banktest.RunHiddenCause(t, grpcbank.Transport.Variants[0]) }
