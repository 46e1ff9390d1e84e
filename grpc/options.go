package grpcbank

import (
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/igbank/igbank/common/transport"
)

// ServerOption configures a Server.
type ServerOption func(*serverConfig)

type serverConfig struct {
	transport.ServerConfig
	grpcOpts []grpc.ServerOption
}

func defaultServerConfig() serverConfig {
	return serverConfig{ServerConfig: transport.ServerConfig{
		MaxConns: 1024,
		Timeouts: transport.Timeouts{Read: 10 * time.Second, Write: 10 * time.Second, Idle: 15 * time.Minute, FirstRequest: 5 * time.Second},
		Logger:   slog.Default(),
	}}
}

// The shared options (package transport has the table). Zero keeps the
// default, a negative value turns the limit or timeout off.
var (
	// WithMaxConns limits the connections served at once (default 1024;
	// package admit). A connection beyond the limit never waits in the
	// listen backlog: the oldest connection that has sent nothing, else
	// the one idle the longest (no call in progress, as the server's
	// interceptors see it), is closed to make room; if every connection
	// has a call in progress, the new one is closed at once and its client
	// reports unavailable. Connections in their TLS handshake count too.
	WithMaxConns = transport.WithMaxConns[ServerOption]
	// WithTimeouts sets the connection timeouts, which grpc-go has not
	// got itself and the server's HTTP/2 guard (common/h2guard) enforces,
	// but for Idle: Read (default 10 s) ends a connection holding a
	// request whose message has not arrived whole that long after its
	// headers; Write (default 10 s) ends a connection whose peer keeps a
	// response waiting that long with its flow-control window closed; Idle
	// closes a connection with no call in progress (keepalive's
	// MaxConnectionIdle, default 15 min); FirstRequest closes a new
	// connection that has not started its first call within this of its
	// accept, TLS handshake included (5 s).
	WithTimeouts = transport.WithTimeouts[ServerOption]
	// WithLogger sets where the server logs recovered panics (default
	// slog.Default()).
	WithLogger = transport.WithLogger[ServerOption]
	// WithTLS makes the server speak TLS with config (tlsconf.Server),
	// through gRPC's own credentials.NewTLS, which offers ALPN h2 and puts
	// the client's verified certificates in each call's peer
	// (credentials.TLSInfo). grpc-go runs each handshake on the accepted
	// connection's own goroutine, never on the accept loop, cut off after
	// the Limits' Timeout (grpc.ConnectionTimeout, default 10 s); their
	// number is bounded by WithMaxConns, not by the Limits' Handshakes.
	// With client CAs in config, a client without a certificate of theirs
	// is refused at the handshake and a client certificate names the
	// caller's principal (auth.Authenticate).
	WithTLS = transport.WithTLS[ServerOption]
	// WithTokens checks the bearer tokens that callers send in the
	// "authorization" metadata of each call (gRPC's per-RPC credentials);
	// a token, when sent, names the caller rather than its certificate.
	// Health and reflection need no principal: auth.Authorize, which the
	// server program wraps around the bank, guards the bank's calls only.
	WithTokens = transport.WithTokens[ServerOption]
	// WithTracerProvider traces the bank's calls with tp (default nil:
	// off, no stats handler at all): otelgrpc's server stats handler,
	// which continues the W3C trace context a client sends in the call's
	// metadata (transport.Propagator). Health checks and reflection are
	// not traced.
	WithTracerProvider = transport.WithTracerProvider[ServerOption]
)

// WithGRPCServerOptions adds options to the grpc.Server, after the
// defaults, so they override them (TLS credentials, interceptors, stats
// handlers, other limits).
func WithGRPCServerOptions(opts ...grpc.ServerOption) ServerOption {
	return func(c *serverConfig) { c.grpcOpts = append(c.grpcOpts, opts...) }
}

// ClientOption configures a Client.
type ClientOption func(*clientConfig)

type clientConfig struct {
	transport.ClientConfig
	dialOpts []grpc.DialOption
}

func defaultClientConfig() clientConfig {
	return clientConfig{ClientConfig: transport.ClientConfig{DialTimeout: 3 * time.Second}}
}

// The shared options of the client (package transport has the table). A
// client multiplexes its calls on one HTTP/2 connection: it has no pool.
var (
	// WithDialTimeout bounds each connection attempt of the ClientConn
	// (MinConnectTimeout, default 3 s; see DefaultConnectParams).
	WithDialTimeout = transport.WithDialTimeout[ClientOption]
	// WithDialer sets the function that opens the ClientConn's
	// connections (grpc.WithContextDialer; default a net.Dialer).
	WithDialer = transport.WithDialer[ClientOption]
	// WithClientTLS makes the ClientConn speak TLS with config
	// (tlsconf.Client) through credentials.NewTLS (ALPN h2), presenting
	// config's client certificate, if any, for mutual TLS. The server's
	// certificate must name the host of the address dialled: an IP
	// address (127.0.0.1) is checked against the certificate's IP SANs.
	WithClientTLS = transport.WithClientTLS[ClientOption]
	// WithToken sends "authorization: Bearer <token>" in the metadata of
	// every call (per-RPC credentials). It needs WithClientTLS: a token is
	// never sent in the clear, and Dial refuses it without TLS.
	WithToken = transport.WithToken[ClientOption]
	// WithClientTracerProvider traces each call (each attempt, under the
	// shared retry layer) with tp, through otelgrpc's client stats
	// handler, which sends the span's W3C trace context in the call's
	// metadata (default nil: off, no stats handler at all).
	WithClientTracerProvider = transport.WithClientTracerProvider[ClientOption]
)

// WithDialOptions adds options to the ClientConn, after the defaults, so
// they override them (TLS credentials instead of plaintext, interceptors,
// stats handlers).
func WithDialOptions(opts ...grpc.DialOption) ClientOption {
	return func(c *clientConfig) { c.dialOpts = append(c.dialOpts, opts...) }
}

// Transport describes the gRPC transport for the load generator, the
// cluster, the cmd/ programs and the tests that run every transport. A
// client multiplexes its calls on one HTTP/2 connection: it has no pool.
var Transport = transport.Descriptor{
	Name:        "grpc",
	Module:      "github.com/igbank/igbank/grpc",
	DefaultAddr: "127.0.0.1:7003",
	HTTP2:       true,
	Tokens:      true,
	Traces:      true,
	Variants: []transport.Variant{
		{Name: "grpc", NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial)},
	},
}
