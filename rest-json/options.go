package restbank

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/igbank/igbank/common/transport"
)

// ServerOption configures a Server.
type ServerOption func(*serverConfig)

type serverConfig struct {
	transport.ServerConfig
	maxBody        int64
	maxHeaderBytes int
}

// DefaultMaxBodyBytes bounds a request body unless WithMaxBodyBytes says
// otherwise. {"amount":1000000000} is 22 bytes; 1 KiB leaves room for
// whitespace and nothing else.
const DefaultMaxBodyBytes = 1 << 10

func defaultServerConfig() serverConfig {
	return serverConfig{
		ServerConfig: transport.ServerConfig{
			MaxConns:       1024,
			Timeouts:       transport.Timeouts{Read: 10 * time.Second, Write: 30 * time.Second, Idle: 2 * time.Minute, FirstRequest: 5 * time.Second},
			MaxCallTimeout: MaxRequestTimeout,
			Logger:         slog.Default(),
		},
		maxBody:        DefaultMaxBodyBytes,
		maxHeaderBytes: 16 << 10,
	}
}

// The shared options (package transport has the table). Zero keeps the
// default, a negative value turns the limit or timeout off.
var (
	// WithMaxConns limits the connections served at once (default 1024;
	// package admit). HTTP/1.1 carries one call at a time per connection,
	// so this is also the most calls in progress at once. A connection
	// beyond the limit never waits in the listen backlog: the oldest
	// connection that has sent nothing, else the keep-alive connection
	// idle the longest, is closed to make room; if every connection has
	// a request in progress, the new one is answered 503 problem+json
	// unavailable at once (with TLS, closed: its client reports
	// unavailable too). Connections in their TLS handshake count too.
	WithMaxConns = transport.WithMaxConns[ServerOption]
	// WithTimeouts sets the http.Server's ReadTimeout (the whole request,
	// default 10 s), WriteTimeout (30 s; a response not written by then
	// closes the connection) and IdleTimeout (2 min). The header must
	// arrive within 5 s of the connection or of the previous request, and
	// a new connection's first request header within FirstRequest of its
	// accept, TLS handshake included (5 s).
	WithTimeouts = transport.WithTimeouts[ServerOption]
	// WithMaxCallTimeout caps the deadline a client may ask for with the
	// Request-Timeout header (default MaxRequestTimeout; the write timeout
	// caps it too).
	WithMaxCallTimeout = transport.WithMaxCallTimeout[ServerOption]
	// WithLogger sets where the server logs recovered panics and the
	// http.Server's own errors (default slog.Default()).
	WithLogger = transport.WithLogger[ServerOption]
	// WithTLS makes the server speak TLS with config (tlsconf.Server) on
	// every connection, offering HTTP/2 and HTTP/1.1 by ALPN ("h2",
	// "http/1.1"), as Go's https servers do. The handshakes run in a
	// tlsconf.Listener, off the accept loop, within the Limits (at most
	// 128 at once and 10 s each by default). With client CAs in config, a
	// client without a certificate of theirs is refused at the handshake
	// and a client certificate names the caller's principal
	// (auth.Authenticate).
	WithTLS = transport.WithTLS[ServerOption]
	// WithTokens checks the bearer tokens that callers send in the
	// Authorization header ("Bearer <token>") of each API request; a
	// token, when sent, names the caller rather than its certificate.
	// /openapi.json needs none.
	WithTokens = transport.WithTokens[ServerOption]
	// WithCORSOrigins lets pages of these origins ("https://bank.example")
	// call the API from a browser: preflights from them are answered, and
	// responses to them carry Access-Control-Allow-Origin (rs/cors; the
	// methods GET, HEAD and POST; the request headers Content-Type,
	// Authorization, Idempotency-Key and Request-Timeout; Location,
	// Idempotent-Replayed and Retry-After readable). None, the default,
	// sends no CORS headers: browsers refuse cross-origin calls.
	WithCORSOrigins = transport.WithCORSOrigins[ServerOption]
	// WithTracerProvider traces the API's requests with tp (default nil:
	// off, no wrapper at all): otelhttp's handler, outermost, which
	// continues the W3C trace context a caller sends in the request
	// headers (transport.Propagator) and names its span for the route.
	// /healthz, /openapi.json and preflights are not traced.
	WithTracerProvider = transport.WithTracerProvider[ServerOption]
)

// WithMaxBodyBytes sets the largest request body accepted (default
// DefaultMaxBodyBytes); a larger one is rejected with 400.
func WithMaxBodyBytes(n int64) ServerOption { return func(c *serverConfig) { c.maxBody = n } }

// WithMaxHeaderBytes sets the http.Server's MaxHeaderBytes (default
// 16 KiB).
func WithMaxHeaderBytes(n int) ServerOption { return func(c *serverConfig) { c.maxHeaderBytes = n } }

// ClientOption configures a Client.
type ClientOption func(*clientConfig)

type clientConfig struct {
	transport.ClientConfig
	rt http.RoundTripper
}

func defaultClientConfig() clientConfig {
	return clientConfig{ClientConfig: transport.ClientConfig{Conns: 512, DialTimeout: 5 * time.Second}}
}

// The shared options of the client (package transport has the table).
var (
	// WithConns bounds the client's connections to the server (default
	// 512). HTTP/1.1 carries one call at a time per connection, so this is
	// also how many calls can be in flight at once; as many stay open,
	// idle, for reuse.
	WithConns = transport.WithConns[ClientOption]
	// WithDialTimeout bounds each connection attempt (default 5 s), within
	// the caller's deadline.
	WithDialTimeout = transport.WithDialTimeout[ClientOption]
	// WithDialer sets the function that opens connections (default a
	// net.Dialer with TCP keep-alive).
	WithDialer = transport.WithDialer[ClientOption]
	// WithClientTLS makes the client speak TLS with config (tlsconf.Client)
	// to https URLs, HTTP/1.1 by ALPN ("http/1.1") as without TLS: one
	// call per connection, WithConns of them. config's client certificate,
	// if any, is presented for mutual TLS. The server's certificate must
	// name the host of the address dialled (an IP address is checked
	// against its IP SANs). The handshake is bounded by the dial timeout.
	WithClientTLS = transport.WithClientTLS[ClientOption]
	// WithToken sends "Authorization: Bearer <token>" with every call. It
	// needs WithClientTLS: a token is never sent in the clear, and Dial
	// refuses it without TLS.
	WithToken = transport.WithToken[ClientOption]
	// WithClientTracerProvider traces each request (each attempt, under
	// the shared retry layer) with tp through otelhttp's transport, which
	// sends the span's W3C trace context in the request headers (default
	// nil: off, no wrapper at all).
	WithClientTracerProvider = transport.WithClientTracerProvider[ClientOption]
)

// WithRoundTripper makes the client send its requests through rt instead
// of its own tuned http.Transport (for tracing or tests); WithConns,
// WithDialTimeout and WithDialer then have no effect, and with
// WithClientTLS rt must speak TLS itself (the URLs are https).
func WithRoundTripper(rt http.RoundTripper) ClientOption {
	return func(c *clientConfig) { c.rt = rt }
}

// Transport describes the REST/JSON transport for the load generator, the
// cluster, the cmd/ programs and the tests that run every transport.
var Transport = transport.Descriptor{
	Name:        "rest",
	Module:      "github.com/igbank/igbank/rest-json",
	DefaultAddr: "127.0.0.1:7004",
	Tokens:      true,
	Traces:      true,
	CORS:        true,
	Variants: []transport.Variant{
		{Name: "rest", Pooled: true, NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial)},
	},
}
