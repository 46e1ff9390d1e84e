package connectbank

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/igbank/igbank/common/admit"
	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/connect/igbankv1connect"
	"github.com/igbank/igbank/proto/pbbank"
)

// Limits of the server: the contract's (package pbbank), the same as the
// gRPC transport's.
const (
	MaxRequestBytes  = pbbank.MaxRequestBytes
	MaxResponseBytes = pbbank.MaxResponseBytes
	// CompressMinBytes is the smallest message that is gzipped when the
	// peer accepts gzip. connect-go's default is 0: every 10-byte balance
	// would be gzipped into a bigger one at a high CPU cost.
	CompressMinBytes = 1024
)

// Server serves a bank.Bank over Connect, gRPC and gRPC-Web on one port.
// It implements transport.Server.
type Server struct {
	http       *http.Server
	admit      *admit.Admission // the connection limit and first-request deadline
	tls        *tls.Config      // nil: plaintext
	handshakes tlsconf.Limits
	health     *grpchealth.StaticChecker

	shut atomic.Bool // Shutdown has begun
}

// NewServer returns a server of b.
func NewServer(b bank.Bank, opts ...ServerOption) *Server {
	cfg := defaultServerConfig()
	for _, o := range opts {
		o(&cfg)
	}
	cfg.Logger = cfg.Logger.With(logs.Transport, "connect")
	b = logs.Hidden(b, cfg.Logger)
	handlerOpts := append([]connect.HandlerOption{
		connect.WithReadMaxBytes(MaxRequestBytes),
		connect.WithSendMaxBytes(MaxResponseBytes),
		connect.WithCompressMinBytes(CompressMinBytes),
		connect.WithRecover(recoverPanic(cfg.Logger)),
		// The workspace's JSON rule for requests, as rest-json's.
		connect.WithCodec(strictJSON{"json"}),
		connect.WithCodec(strictJSON{"json; charset=utf-8"}),
	}, cfg.handlerOpts...)
	if ic := traceInterceptor(cfg.Tracer); ic != nil {
		handlerOpts = append(handlerOpts, connect.WithInterceptors(ic...))
	}
	mux := http.NewServeMux()
	mux.Handle(igbankv1connect.NewBankServiceHandler(&pbbank.Service{Bank: b, WireError: connectError}, handlerOpts...))
	// grpc.health.v1 (connect's own grpchealth), as on the gRPC server:
	// the bank service and the server as a whole ("") are SERVING until
	// Shutdown begins. It answers the Connect, gRPC and gRPC-Web
	// protocols, so grpcurl, grpc_health_probe and a Kubernetes gRPC probe
	// work against this port.
	health := grpchealth.NewStaticChecker(igbankv1connect.BankServiceName)
	mux.Handle(grpchealth.NewHandler(health, connect.WithCompressMinBytes(CompressMinBytes)))
	// Reflection, so grpcurl works against this server as against the
	// gRPC one.
	reflector := grpcreflect.NewStaticReflector(igbankv1connect.BankServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))

	var handler http.Handler = plainBodyErrors(mux)
	if cfg.TLS != nil || cfg.Tokens != nil {
		handler = authenticate(handler, cfg.Tokens)
	}
	if len(cfg.CORSOrigins) > 0 {
		// Outermost: a preflight carries no credentials.
		handler = withCORS(handler, cfg.CORSOrigins)
	}

	var protocols http.Protocols
	protocols.SetHTTP1(true) // curl, browsers, Connect and gRPC-Web over HTTP/1.1
	var tlsConfig *tls.Config
	if cfg.TLS != nil {
		// HTTP/2 by ALPN, HTTP/1.1 for the clients that ask for it. The
		// handshake is the listener's (Serve): net/http sees *tls.Conn
		// connections with the protocol negotiated and serves HTTP/2 on
		// those that chose "h2".
		protocols.SetHTTP2(true)
		tlsConfig = cfg.TLS.Clone()
		tlsConfig.NextProtos = []string{"h2", "http/1.1"}
	} else {
		protocols.SetUnencryptedHTTP2(true) // h2c with prior knowledge: gRPC needs HTTP/2
	}
	hs := &http.Server{
		Handler:           handler,
		Protocols:         &protocols,
		ReadHeaderTimeout: 5 * time.Second,
		// Calls are unary and small, so the read and write timeouts only
		// cut off stalled or hostile peers (WithTimeouts).
		ReadTimeout:    transport.Limit(cfg.Timeouts.Read),
		WriteTimeout:   transport.Limit(cfg.Timeouts.Write),
		IdleTimeout:    transport.Limit(cfg.Timeouts.Idle),
		MaxHeaderBytes: 16 << 10,
		HTTP2:          serverHTTP2Config(),
		// What net/http logs is client misbehaviour (bad requests, TLS
		// probes, broken HTTP/2 prefaces), which a benchmark or a fuzzer
		// would flood: DEBUG, with the server's keys.
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	for _, f := range cfg.configure {
		f(hs)
	}
	// A request in progress (over HTTP/2, an open stream) makes its
	// connection busy, so the admission reclaims only idle ones; a
	// ConnState of WithHTTPServer's still runs, after.
	if user := hs.ConnState; user != nil {
		hs.ConnState = func(nc net.Conn, st http.ConnState) { admit.ConnState(nc, st); user(nc, st) }
	} else {
		hs.ConnState = admit.ConnState
	}
	// A connection refused at a full server is closed: its client
	// reports unavailable.
	return &Server{http: hs, admit: cfg.Admission(nil), tls: tlsConfig, handshakes: cfg.Handshakes.Logged(cfg.Logger), health: health}
}

// plainBodyErrors makes a request body that fails to arrive an error that
// says what happened and nothing more. connect-go sends the text of a body
// read error to the client, and over HTTP/1.1 that is the socket's error,
// naming both addresses ("read tcp 127.0.0.1:…->127.0.0.1:…: i/o
// timeout"); a *connect.Error from the body is passed on as it is.
func plainBodyErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = bodyReader{r.Body}
		next.ServeHTTP(w, r)
	})
}

type bodyReader struct{ io.ReadCloser }

var (
	errBodyTimeout = connect.NewError(connect.CodeDeadlineExceeded, errors.New("request body not received within the read timeout"))
	errBodyBroken  = connect.NewError(connect.CodeUnavailable, errors.New("connection failed while reading the request body"))
)

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var ne net.Error
	if err != nil && errors.As(err, &ne) {
		if ne.Timeout() {
			return n, errBodyTimeout
		}
		return n, errBodyBroken
	}
	return n, err
}

// authenticate puts the caller's principal in each request's context
// (auth.Authenticate): the bearer token of the Authorization header,
// checked by v, or else the client certificate verified by the TLS
// handshake. It refuses nothing itself; auth.Authorize, around the bank,
// does. An http middleware rather than a Connect interceptor: an
// interceptor does not see the request's TLS state.
func authenticate(next http.Handler, v *auth.Verifier) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var bearer string
		if a := r.Header["Authorization"]; len(a) > 0 {
			bearer = auth.BearerToken(a[0])
		}
		var certs []*x509.Certificate
		if r.TLS != nil {
			certs = r.TLS.PeerCertificates
		}
		next.ServeHTTP(w, r.WithContext(auth.Authenticate(r.Context(), v, bearer, certs)))
	})
}

// serverHTTP2Config is the HTTP/2 tuning of the server; README.md has the
// measurements behind it.
func serverHTTP2Config() *http.HTTP2Config {
	return &http.HTTP2Config{
		MaxConcurrentStreams: pbbank.MaxConcurrentStreams,
		// Ping a connection that has been silent for 30 s and close it if
		// the peer does not answer within 10 s.
		SendPingTimeout: 30 * time.Second,
		PingTimeout:     10 * time.Second,
		// Receive windows as the gRPC server's (pbbank): a call of a few
		// hundred bytes never waits for a window update, and since
		// net/http opens the connection's window only as handlers read,
		// the unread request bytes of a connection stay under 1 MiB.
		MaxReceiveBufferPerStream:     pbbank.StreamWindow,
		MaxReceiveBufferPerConnection: pbbank.ConnWindow,
		// No WriteByteTimeout: the ping above already drops a peer that
		// stops reading, and it would cost two write-deadline updates on
		// every write of the connection.
	}
}

// Serve serves l until Shutdown, and then returns nil. The connections
// are admitted (WithMaxConns, Timeouts.FirstRequest: package admit) as
// they are accepted; with TLS, the handshakes run in a tlsconf.Listener
// above the admission and count toward the limit. HTTP/2 abuse is
// net/http's to answer (README.md, "Limits and budget"): unlike gRPC's
// server, this one runs without common/h2guard beneath it.
func (s *Server) Serve(l net.Listener) error {
	l = s.admit.Listener(l)
	if s.tls != nil {
		l = tlsconf.Listener(l, s.tls, s.handshakes)
	}
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		if s.shut.Load() {
			return nil
		}
	}
	return err
}

// Shutdown marks the server NOT_SERVING on the health service, stops
// accepting connections and lets calls in progress finish until ctx ends;
// then it closes every connection and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.shut.Store(true)
	s.health.SetStatus("", grpchealth.StatusNotServing)
	s.health.SetStatus(igbankv1connect.BankServiceName, grpchealth.StatusNotServing)
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close() // cut the calls still running
	}
	return err
}

// recoverPanic turns a panic of a handler into an Internal error for that
// call, and logs it.
func recoverPanic(logger *slog.Logger) func(context.Context, connect.Spec, http.Header, any) error {
	return func(_ context.Context, spec connect.Spec, _ http.Header, p any) error {
		logger.Error("panic recovered", logs.Method, spec.Procedure, logs.Panic, p, logs.Stack, string(debug.Stack()))
		return connectError(&bank.Error{Code: bank.Internal, Message: "panic in " + spec.Procedure, Err: fmt.Errorf("%v", p)})
	}
}

// connectError converts a bank error to a Connect error with the code of
// pbbank's table, the message bank.Detail(err) and the IGBank ErrorInfo
// detail, and a RetryInfo detail for an error with a retry-after hint.
func connectError(err error) error {
	c := bank.CodeOf(err)
	ce := connect.NewError(connect.Code(pbbank.StatusCode(c)), errors.New(bank.Detail(err)))
	if d, derr := connect.NewErrorDetail(pbbank.ErrorInfo(c)); derr == nil {
		ce.AddDetail(d)
	}
	if hint, ok := bank.RetryAfter(err); ok {
		if d, derr := connect.NewErrorDetail(pbbank.RetryInfo(hint)); derr == nil {
			ce.AddDetail(d)
		}
	}
	return ce
}
