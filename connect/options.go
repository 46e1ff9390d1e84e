package connectbank

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/igbank/igbank/common/transport"
)

// ServerOption configures a Server.
type ServerOption func(*serverConfig)

type serverConfig struct {
	transport.ServerConfig
	handlerOpts []connect.HandlerOption
	configure   []func(*http.Server)
}

func defaultServerConfig() serverConfig {
	return serverConfig{ServerConfig: transport.ServerConfig{
		MaxConns: 1024,
		Timeouts: transport.Timeouts{Read: 10 * time.Second, Write: 10 * time.Second, Idle: 2 * time.Minute, FirstRequest: 5 * time.Second},
		Logger:   slog.Default(),
	}}
}

// The shared options (package transport has the table). Zero keeps the
// default, a negative value turns the limit or timeout off.
var (
	// WithMaxConns limits the connections served at once (default 1024;
	// package admit). A connection beyond the limit never waits in the
	// listen backlog: the oldest connection that has sent nothing, else
	// the one idle the longest (no request or stream in progress), is
	// closed to make room; if every connection has one in progress, the
	// new one is closed at once and its client reports unavailable.
	// Connections in their TLS handshake count too.
	WithMaxConns = transport.WithMaxConns[ServerOption]
	// WithTimeouts sets the http.Server's ReadTimeout (a whole request,
	// headers and body, default 10 s), WriteTimeout (10 s) and
	// IdleTimeout (2 min). The header must arrive within 5 s, and a new
	// connection's first request (over HTTP/2, its first stream) within
	// FirstRequest of its accept, TLS handshake included (5 s). On
	// HTTP/2 the read and write timeouts apply to each stream: net/http
	// resets a stream whose request has not arrived, or whose reply has
	// not been let through by the peer's window, in time.
	WithTimeouts = transport.WithTimeouts[ServerOption]
	// WithLogger sets where the server logs recovered panics (default
	// slog.Default()). The http.Server's own log of misbehaving peers is
	// dropped, since a benchmark or a fuzzer would flood it.
	WithLogger = transport.WithLogger[ServerOption]
	// WithTLS makes the server speak TLS with config (tlsconf.Server) on
	// every connection, offering HTTP/2 and HTTP/1.1 by ALPN ("h2",
	// "http/1.1"): Connect, gRPC and gRPC-Web over either, as in
	// plaintext (where HTTP/2 is h2c). The handshakes run in a
	// tlsconf.Listener, off the accept loop, within the Limits (at most
	// 128 at once and 10 s each by default). With client CAs in config, a
	// client without a certificate of theirs is refused at the handshake
	// and a client certificate names the caller's principal
	// (auth.Authenticate).
	WithTLS = transport.WithTLS[ServerOption]
	// WithTokens checks the bearer tokens that callers send in the
	// Authorization header ("Bearer <token>") of each request, in every
	// protocol; a token, when sent, names the caller rather than its
	// certificate.
	WithTokens = transport.WithTokens[ServerOption]
	// WithCORSOrigins lets pages of these origins ("https://bank.example")
	// call the server from a browser with the Connect and gRPC-Web
	// protocols (connect-web): preflights from them are answered, and
	// responses to them carry Access-Control-Allow-Origin and expose the
	// protocols' headers (rs/cors with connectrpc.com/cors's lists, and
	// Authorization for bearer tokens). None, the default, sends no CORS
	// headers: browsers refuse cross-origin calls.
	WithCORSOrigins = transport.WithCORSOrigins[ServerOption]
	// WithTracerProvider traces the bank's calls with tp, in all three
	// protocols (default nil: off, no interceptor at all): otelconnect's
	// interceptor on the handler, which continues the W3C trace context a
	// caller sends in the request headers (transport.Propagator). Health
	// checks and reflection are not traced.
	WithTracerProvider = transport.WithTracerProvider[ServerOption]
)

// WithHandlerOptions adds options to the Connect handler, after the
// defaults (interceptors, other limits, codecs).
func WithHandlerOptions(opts ...connect.HandlerOption) ServerOption {
	return func(c *serverConfig) { c.handlerOpts = append(c.handlerOpts, opts...) }
}

// WithHTTPServer lets f change the http.Server after NewServer has set it
// up (TLS, other timeouts), before it serves.
func WithHTTPServer(f func(*http.Server)) ServerOption {
	return func(c *serverConfig) { c.configure = append(c.configure, f) }
}

// ClientOption configures a Client.
type ClientOption func(*clientConfig)

type clientConfig struct {
	transport.ClientConfig
	protocol   Protocol
	httpClient connect.HTTPClient
	http1Conns int
	opts       []connect.ClientOption
}

func defaultClientConfig() clientConfig {
	return clientConfig{ClientConfig: transport.ClientConfig{Conns: 1, DialTimeout: 5 * time.Second}}
}

// The shared options of the client (package transport has the table).
var (
	// WithConns spreads the client's calls over n HTTP/2 connections
	// (default 1), round robin. Go's HTTP/2 client and server do much of
	// their work on one goroutine per connection; with many callers on a
	// multi-core machine, a few connections let that work run in parallel.
	WithConns = transport.WithConns[ClientOption]
	// WithDialTimeout bounds each connection attempt (default 5 s), within
	// the caller's deadline.
	WithDialTimeout = transport.WithDialTimeout[ClientOption]
	// WithDialer sets the function that opens connections (default a
	// net.Dialer with TCP keep-alive).
	WithDialer = transport.WithDialer[ClientOption]
	// WithClientTLS makes the client speak TLS with config (tlsconf.Client)
	// to an https URL: HTTP/2 by ALPN "h2" (instead of h2c), or HTTP/1.1
	// ("http/1.1") with WithHTTP1; config's client certificate, if any, is
	// presented for mutual TLS. The server's certificate must name the host
	// of the address dialled (an IP address is checked against its IP
	// SANs). The handshake is bounded by the dial timeout.
	WithClientTLS = transport.WithClientTLS[ClientOption]
	// WithToken sends "Authorization: Bearer <token>" with every call (a
	// client interceptor), in every protocol. It needs WithClientTLS: a
	// token is never sent in the clear, and Dial refuses it without TLS.
	WithToken = transport.WithToken[ClientOption]
	// WithClientTracerProvider traces each call (each attempt, under the
	// shared retry layer) with tp through otelconnect's interceptor, which
	// sends the span's W3C trace context in the request headers, in every
	// protocol (default nil: off, no interceptor at all).
	WithClientTracerProvider = transport.WithClientTracerProvider[ClientOption]
)

// WithProtocol makes the client speak p (default Connect).
func WithProtocol(p Protocol) ClientOption {
	return func(c *clientConfig) { c.protocol = p }
}

// WithHTTP1 makes the client use HTTP/1.1 with up to n keep-alive
// connections instead of HTTP/2 (h2c, or h2 over TLS), one call in flight
// per connection. It works
// for the Connect and gRPC-Web protocols, not for gRPC, which needs HTTP/2.
// Go's HTTP/1.1 stack does less work per call than its HTTP/2 stack, so
// with many callers this can beat one multiplexed connection (README.md).
func WithHTTP1(n int) ClientOption {
	return func(c *clientConfig) { c.http1Conns = max(n, 1) }
}

// WithHTTPClient makes the client send its requests with h instead of its
// own HTTP/2 transport (for proxies or instrumentation). WithConns,
// WithDialTimeout and WithDialer have no effect then, and with
// WithClientTLS h must speak TLS itself (the URLs are https).
func WithHTTPClient(h connect.HTTPClient) ClientOption {
	return func(c *clientConfig) { c.httpClient = h }
}

// WithClientOptions adds options to the Connect client, after the
// defaults (interceptors, codecs, compression).
func WithClientOptions(opts ...connect.ClientOption) ClientOption {
	return func(c *clientConfig) { c.opts = append(c.opts, opts...) }
}

// Transport describes the Connect transport for the load generator, the
// cluster, the cmd/ programs and the tests that run every transport: one
// server speaks the Connect, gRPC and gRPC-Web protocols, and each variant
// is a client of one of them.
var Transport = transport.Descriptor{
	Name:        "connect",
	Module:      "github.com/igbank/igbank/connect",
	DefaultAddr: "127.0.0.1:7006",
	HTTP2:       true,
	Tokens:      true,
	Traces:      true,
	CORS:        true,
	Variants: []transport.Variant{
		{Name: "connect", Protocol: Connect.String(), Pooled: true,
			NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial)},
		{Name: "connect-grpc", Protocol: GRPC.String(), Pooled: true,
			NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial, WithProtocol(GRPC))},
		{Name: "connect-grpcweb", Protocol: GRPCWeb.String(), Pooled: true,
			NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial, WithProtocol(GRPCWeb))},
		// The Connect protocol over HTTP/1.1, one call in flight on each
		// of many keep-alive connections (the pool's size, 64 by
		// default): on a small machine Go's HTTP/1.1 stack does less work
		// per call than its HTTP/2 stack on one connection.
		{Name: "connect-h1", Protocol: "connect-h1", Pooled: true,
			NewServer: transport.ServerFor(NewServer), Dial: dialHTTP1},
	},
}

// http1Conns is the connect-h1 variant's pool unless told otherwise: one
// connection for each of the load generator's default 64 callers.
const http1Conns = 64

// dialHTTP1 is the connect-h1 variant's Dial: WithHTTP1 with a pool of
// cfg.Conns connections, http1Conns by default.
func dialHTTP1(ctx context.Context, addr string, cfg transport.ClientConfig) (transport.Client, error) {
	n := cfg.Conns
	if n <= 0 {
		n = http1Conns
	}
	return transport.DialerFor(Dial, WithHTTP1(n))(ctx, addr, cfg)
}
