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
	authorize      func(*http.Request) error
}

// DefaultMaxBodyBytes bounds a request body unless WithMaxBodyBytes says
// otherwise. {"amount":1000000000} is 22 bytes; 1 KiB leaves room for
// whitespace and nothing else.
const DefaultMaxBodyBytes = 1 << 10

func defaultServerConfig() serverConfig {
	return serverConfig{
		ServerConfig: transport.ServerConfig{
			Timeouts:       transport.Timeouts{Read: 10 * time.Second, Write: 30 * time.Second, Idle: 2 * time.Minute},
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
	// WithMaxConns limits the connections served at once (default: no
	// limit); further clients wait in the listen backlog until one
	// closes. HTTP/1.1 carries one call at a time per connection, so this
	// is also the most calls in progress at once.
	WithMaxConns = transport.WithMaxConns[ServerOption]
	// WithTimeouts sets the http.Server's ReadTimeout (the whole request,
	// default 10 s), WriteTimeout (30 s) and IdleTimeout (2 min). The
	// header must arrive within 5 s of the connection or of the previous
	// request.
	WithTimeouts = transport.WithTimeouts[ServerOption]
	// WithMaxCallTimeout caps the deadline a client may ask for with the
	// Request-Timeout header (default MaxRequestTimeout; the write timeout
	// caps it too).
	WithMaxCallTimeout = transport.WithMaxCallTimeout[ServerOption]
	// WithLogger sets where the server logs recovered panics and the
	// http.Server's own errors (default slog.Default()).
	WithLogger = transport.WithLogger[ServerOption]
)

// WithMaxBodyBytes sets the largest request body accepted (default
// DefaultMaxBodyBytes); a larger one is rejected with 400.
func WithMaxBodyBytes(n int64) ServerOption { return func(c *serverConfig) { c.maxBody = n } }

// WithMaxHeaderBytes sets the http.Server's MaxHeaderBytes (default
// 16 KiB).
func WithMaxHeaderBytes(n int) ServerOption { return func(c *serverConfig) { c.maxHeaderBytes = n } }

// WithAuthorizer makes the server call authorize before every API request
// (not before /openapi.json). A non-nil error rejects the request with the
// status of its bank code: return a bank error with code Unauthenticated
// (401) or PermissionDenied (403).
func WithAuthorizer(authorize func(*http.Request) error) ServerOption {
	return func(c *serverConfig) { c.authorize = authorize }
}

// ClientOption configures a Client.
type ClientOption func(*clientConfig)

type clientConfig struct {
	transport.ClientConfig
	rt   http.RoundTripper
	auth []string // the Authorization header value, or nil
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
)

// WithRoundTripper makes the client send its requests through rt instead
// of its own tuned http.Transport (for tracing or tests); WithConns,
// WithDialTimeout and WithDialer then have no effect.
func WithRoundTripper(rt http.RoundTripper) ClientOption {
	return func(c *clientConfig) { c.rt = rt }
}

// WithBearerToken makes the client send "Authorization: Bearer token".
func WithBearerToken(token string) ClientOption {
	return func(c *clientConfig) { c.auth = []string{"Bearer " + token} }
}

// Transport describes the REST/JSON transport for the load generator, the
// cluster, the cmd/ programs and the tests that run every transport.
var Transport = transport.Descriptor{
	Name:        "rest",
	Module:      "github.com/igbank/igbank/rest-json",
	DefaultAddr: "127.0.0.1:7004",
	Variants: []transport.Variant{
		{Name: "rest", Pooled: true, NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial)},
	},
}
