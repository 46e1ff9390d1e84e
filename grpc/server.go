package grpcbank

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/admit"
	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/h2guard"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/proto/igbankv1"
	"github.com/igbank/igbank/proto/pbbank"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
)

// Limits of the server: the contract's (package pbbank), the same as the
// Connect transport's.
const (
	MaxRequestBytes      = pbbank.MaxRequestBytes
	MaxResponseBytes     = pbbank.MaxResponseBytes
	MaxConcurrentStreams = pbbank.MaxConcurrentStreams
	// MaxConnectionAge and MaxConnectionAgeGrace end every connection
	// after a while, however it behaves, so nothing a peer does holds a
	// connection's memory for good.
	MaxConnectionAge      = 30 * time.Minute
	MaxConnectionAgeGrace = 30 * time.Second
)

// Server serves a bank.Bank over gRPC. It implements transport.Server.
type Server struct {
	grpc   *grpc.Server
	health *health.Server
	admit  *admit.Admission // the connection limit and first-request deadline
	guard  *h2guard.Limits  // for plaintext connections (TLS ones: guardedCreds)

	shut atomic.Bool // Shutdown has begun
}

// DefaultServerOptions are the grpc.Server options NewServer starts from,
// with the default settings (WithTimeouts, WithLogger): limits, keepalive
// enforcement, panic recovery and the performance settings measured in
// README.md.
func DefaultServerOptions() []grpc.ServerOption { return serverOptions(defaultServerConfig()) }

func serverOptions(cfg serverConfig) []grpc.ServerOption {
	handshake := cfg.Handshakes.Timeout
	if handshake <= 0 {
		handshake = 10 * time.Second
	}
	interceptors := []grpc.UnaryServerInterceptor{recoverPanics(cfg.Logger)}
	if cfg.TLS != nil || cfg.Tokens != nil {
		interceptors = append(interceptors, authenticate(cfg.Tokens))
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxRequestBytes),
		grpc.MaxSendMsgSize(MaxResponseBytes),
		grpc.MaxConcurrentStreams(MaxConcurrentStreams),
		grpc.MaxHeaderListSize(16 << 10),
		// The TLS handshake and the HTTP/2 preface of a new connection
		// (the handshake Timeout of WithTLS).
		grpc.ConnectionTimeout(handshake),
		// Clients may ping every 10 s at most, even with no call in
		// progress; a client pinging more often is sent GOAWAY.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: transport.Limit(cfg.Timeouts.Idle), // close connections idle this long
			// Every connection ends after 30 min (±10%, GOAWAY, so its
			// client reconnects); calls in progress get 30 s more.
			MaxConnectionAge:      MaxConnectionAge,
			MaxConnectionAgeGrace: MaxConnectionAgeGrace,
			Time:                  time.Minute,      // ping a silent client after a minute
			Timeout:               20 * time.Second, // and drop it if it does not answer
		}),
		grpc.ChainUnaryInterceptor(interceptors...),
		// Performance: serve calls on a fixed pool of goroutines instead
		// of one new goroutine per call, share one write buffer per
		// connection instead of keeping 32 KiB per idle connection, and
		// fixed flow-control windows large enough that small calls never
		// wait for a window update (which also turns off BDP pings).
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
		grpc.SharedWriteBuffer(true),
		// HTTP/2 sizing (pbbank's, as Connect's): what one connection
		// can pin stays within the budget in README.md.
		grpc.InitialWindowSize(pbbank.StreamWindow),
		grpc.InitialConnWindowSize(pbbank.ConnWindow),
		// Replies marshalled into buffers of their own size (codec.go).
		grpc.ForceServerCodecV2(exactCodec{}),
	}
	if cfg.TLS != nil {
		// The guard watches the plaintext side of each TLS connection.
		opts = append(opts, grpc.Creds(guardedCreds{credentials.NewTLS(cfg.TLS), guardLimits(cfg)}))
	}
	return opts
}

// The limits of the HTTP/2 guard beneath the server (common/h2guard),
// besides the read and write timeouts.
const (
	// PendingRequestBytes bounds the bytes of requests begun and not
	// ended on one connection. A client's requests are a few hundred
	// bytes each and end in the frame that carries them.
	PendingRequestBytes = 256 << 10
	// ResetRate and ResetBurst bound the streams a peer may reset
	// (RST_STREAM) per second, and at once, before it is sent GOAWAY: a
	// client cancelling every call it has open, twice over, and a
	// thousand a second.
	ResetRate  = 1000
	ResetBurst = 2 * MaxConcurrentStreams
)

// guardLimits are the h2guard limits of a server with cfg: a request not
// complete Timeouts.Read after its headers, or a response the peer does
// not let through for Timeouts.Write, ends the connection; so does a peer
// that resets streams faster than ResetRate (GOAWAY ENHANCE_YOUR_CALM).
// Violations are logged at warning level.
func guardLimits(cfg serverConfig) h2guard.Limits {
	logger := cfg.Logger
	return h2guard.Limits{
		ResetRate:      ResetRate,
		ResetBurst:     ResetBurst,
		RequestTimeout: transport.Limit(cfg.Timeouts.Read),
		StallTimeout:   transport.Limit(cfg.Timeouts.Write),
		RequestBytes:   PendingRequestBytes,
		MaxStreams:     4 * MaxConcurrentStreams,
		OnViolation: func(c net.Conn, v h2guard.Violation) {
			if logger != nil {
				logger.Warn("HTTP/2 connection ended", logs.Reason, string(v), logs.Peer, c.RemoteAddr().String())
			}
		},
	}
}

// guardedCreds are TLS credentials whose connections, once the handshake
// is done, are guarded by h2guard.
type guardedCreds struct {
	credentials.TransportCredentials
	lim h2guard.Limits
}

func (g guardedCreds) ServerHandshake(c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	c, info, err := g.TransportCredentials.ServerHandshake(c)
	if err != nil {
		return nil, nil, err
	}
	return h2guard.Conn(c, g.lim), info, nil
}

func (g guardedCreds) Clone() credentials.TransportCredentials {
	return guardedCreds{g.TransportCredentials.Clone(), g.lim}
}

// NewServer returns a server of b.
func NewServer(b bank.Bank, opts ...ServerOption) *Server {
	cfg := defaultServerConfig()
	for _, o := range opts {
		o(&cfg)
	}
	cfg.Logger = cfg.Logger.With(logs.Transport, "grpc")
	b = logs.Hidden(b, cfg.Logger)
	// A connection refused at a full server is closed: its client
	// reports unavailable.
	adm := cfg.Admission(nil)
	gopts := append(serverOptions(cfg), admissionOptions(adm)...)
	gopts = append(gopts, serverTraceOptions(cfg.Tracer)...)
	s := &Server{
		grpc:   grpc.NewServer(append(gopts, cfg.grpcOpts...)...),
		health: health.NewServer(),
		admit:  adm,
	}
	if cfg.TLS == nil {
		lim := guardLimits(cfg)
		s.guard = &lim
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

// Serve serves gRPC on l until Shutdown, and then returns nil. The
// connections are admitted (WithMaxConns, Timeouts.FirstRequest: package
// admit) as they are accepted, before their TLS handshakes.
func (s *Server) Serve(l net.Listener) error {
	l = s.admit.Listener(l)
	if s.guard != nil {
		l = h2guard.Listener(l, *s.guard)
	}
	err := s.grpc.Serve(l)
	if s.shut.Load() && (err == nil || errors.Is(err, grpc.ErrServerStopped)) {
		return nil
	}
	return err
}

// Shutdown marks the server NOT_SERVING on the health service, stops
// accepting connections and lets calls in progress finish until ctx ends;
// then it closes every connection and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.shut.Store(true)
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
// call, so no input can take the server down, and logs it. (Ten lines do
// not justify a middleware dependency.)
func recoverPanics(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				logger.Error("panic recovered", logs.Method, info.FullMethod, logs.Panic, p, logs.Stack, string(debug.Stack()))
				// The client learns there was a panic, in which method; the
				// value and the stack stay in the log (bank.Detail).
				err = pbbank.Status(&bank.Error{Code: bank.Internal, Message: "panic in " + info.FullMethod, Err: fmt.Errorf("%v", p)})
			}
		}()
		return next(ctx, req)
	}
}

// authenticate puts the caller's principal in each call's context
// (auth.Authenticate): the bearer token of the "authorization" metadata,
// checked by v, or else the client certificate verified by the TLS
// handshake. It refuses nothing itself; auth.Authorize, around the bank,
// does.
func authenticate(v *auth.Verifier) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		var bearer string
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if a := md["authorization"]; len(a) > 0 {
				bearer = auth.BearerToken(a[0])
			}
		}
		var certs []*x509.Certificate
		if p, ok := peer.FromContext(ctx); ok {
			if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
				certs = info.State.PeerCertificates
			}
		}
		return next(auth.Authenticate(ctx, v, bearer, certs), req)
	}
}

// handler serves the generated interface with pbbank's adapter. It opts
// out of forward compatibility (Unsafe...) on purpose: a method added to
// the .proto must fail the build here, not answer Unimplemented.
type handler struct {
	igbankv1.UnsafeBankServiceServer
	*pbbank.Service
}
