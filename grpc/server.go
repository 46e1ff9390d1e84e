package grpcbank

import (
	"context"
	"errors"
	"log"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/proto/igbankv1"
	"github.com/igbank/igbank/proto/pbbank"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// Limits of the server: the contract's (package pbbank), the same as the
// Connect transport's.
const (
	MaxRequestBytes      = pbbank.MaxRequestBytes
	MaxResponseBytes     = pbbank.MaxResponseBytes
	MaxConcurrentStreams = pbbank.MaxConcurrentStreams
)

// ServerOption configures a Server.
type ServerOption func(*serverConfig)

type serverConfig struct {
	grpcOpts []grpc.ServerOption
}

// WithGRPCServerOptions adds options to the grpc.Server, after the
// defaults, so they override them (TLS credentials, interceptors, stats
// handlers, other limits).
func WithGRPCServerOptions(opts ...grpc.ServerOption) ServerOption {
	return func(c *serverConfig) { c.grpcOpts = append(c.grpcOpts, opts...) }
}

// Server serves a bank.Bank over gRPC. It implements transport.Server.
type Server struct {
	grpc   *grpc.Server
	health *health.Server

	mu   sync.Mutex
	shut bool
}

// DefaultServerOptions are the grpc.Server options NewServer starts from:
// limits, keepalive enforcement, panic recovery and the performance
// settings measured in README.md.
func DefaultServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxRequestBytes),
		grpc.MaxSendMsgSize(MaxResponseBytes),
		grpc.MaxConcurrentStreams(MaxConcurrentStreams),
		grpc.MaxHeaderListSize(16 << 10),
		grpc.ConnectionTimeout(10 * time.Second),
		// Clients may ping every 10 s at most, even with no call in
		// progress; a client pinging more often is sent GOAWAY.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: 15 * time.Minute, // close connections idle this long
			Time:              time.Minute,      // ping a silent client after a minute
			Timeout:           20 * time.Second, // and drop it if it does not answer
		}),
		grpc.ChainUnaryInterceptor(recoverPanics),
		// Performance: serve calls on a fixed pool of goroutines instead
		// of one new goroutine per call, share one write buffer per
		// connection instead of keeping 32 KiB per idle connection, and
		// fixed flow-control windows large enough that small calls never
		// wait for a window update (which also turns off BDP pings).
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
		grpc.SharedWriteBuffer(true),
		grpc.InitialWindowSize(1 << 20),
		grpc.InitialConnWindowSize(8 << 20),
	}
}

// NewServer returns a server of b.
func NewServer(b bank.Bank, opts ...ServerOption) *Server {
	var cfg serverConfig
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		grpc:   grpc.NewServer(append(DefaultServerOptions(), cfg.grpcOpts...)...),
		health: health.NewServer(),
	}
	igbankv1.RegisterBankServiceServer(s.grpc, handler{Service: &pbbank.Service{Bank: b, WireError: pbbank.Status}})
	healthpb.RegisterHealthServer(s.grpc, s.health)
	s.health.SetServingStatus(igbankv1.BankService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	reflection.Register(s.grpc)
	return s
}

// GRPCServer returns the underlying grpc.Server, to register more services
// on the same port before Serve.
func (s *Server) GRPCServer() *grpc.Server { return s.grpc }

// Serve serves gRPC on l until Shutdown, and then returns nil.
func (s *Server) Serve(l net.Listener) error {
	err := s.grpc.Serve(l)
	s.mu.Lock()
	shut := s.shut
	s.mu.Unlock()
	if shut && (err == nil || errors.Is(err, grpc.ErrServerStopped)) {
		return nil
	}
	return err
}

// Shutdown marks the server NOT_SERVING on the health service, stops
// accepting connections and lets calls in progress finish until ctx ends;
// then it closes every connection and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shut = true
	s.mu.Unlock()
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.grpc.Stop() // cuts the calls still running; GracefulStop then returns
		<-done
		return ctx.Err()
	}
}

// recoverPanics turns a panic of a handler into an Internal error for that
// call, so no input can take the server down. (Ten lines do not justify a
// middleware dependency.)
func recoverPanics(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Printf("grpcbank: panic in %s: %v\n%s", info.FullMethod, p, debug.Stack())
			// The client gets the panic's value but not the stack.
			err = pbbank.Status(bank.Errorf(bank.Internal, "panic in %s: %v", info.FullMethod, p))
		}
	}()
	return next(ctx, req)
}

// handler serves the generated interface with pbbank's adapter. It opts
// out of forward compatibility (Unsafe...) on purpose: a method added to
// the .proto must fail the build here, not answer Unimplemented.
type handler struct {
	igbankv1.UnsafeBankServiceServer
	*pbbank.Service
}
