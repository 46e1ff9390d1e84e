package transport

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/tlsconf"
)

// The options of the shared vocabulary, written once for every transport
// whose server config embeds ServerConfig (O is that transport's
// ServerOption) or whose client config embeds ClientConfig (O is its
// ClientOption). A transport exports each under the same name,
// instantiated for its own option type, and documents its defaults there:
//
//	var WithMaxConns = transport.WithMaxConns[ServerOption]

// WithMaxConns sets ServerConfig.MaxConns: the connections a server holds
// at once.
func WithMaxConns[O ~func(P), P serverConfigured](n int) O {
	return serverOption[O](ServerConfig{MaxConns: n})
}

// WithTimeouts sets the fields of ServerConfig.Timeouts that are not zero.
func WithTimeouts[O ~func(P), P serverConfigured](t Timeouts) O {
	return serverOption[O](ServerConfig{Timeouts: t})
}

// WithMaxCallTimeout sets ServerConfig.MaxCallTimeout: how long a server
// runs one call at most.
func WithMaxCallTimeout[O ~func(P), P serverConfigured](d time.Duration) O {
	return serverOption[O](ServerConfig{MaxCallTimeout: d})
}

// WithLogger sets ServerConfig.Logger: where a server logs what no caller
// sees.
func WithLogger[O ~func(P), P serverConfigured](l *slog.Logger) O {
	return serverOption[O](ServerConfig{Logger: l})
}

// WithTLS sets ServerConfig.TLS: the server speaks TLS with config (from
// tlsconf.Server), and ServerConfig.Handshakes (zero fields keep the
// defaults of tlsconf.Limits).
func WithTLS[O ~func(P), P serverConfigured](config *tls.Config, handshakes tlsconf.Limits) O {
	return serverOption[O](ServerConfig{TLS: config, Handshakes: handshakes})
}

// WithTokens sets ServerConfig.Tokens: the verifier of the bearer tokens
// callers send.
func WithTokens[O ~func(P), P serverConfigured](v *auth.Verifier) O {
	return serverOption[O](ServerConfig{Tokens: v})
}

// WithCORSOrigins sets ServerConfig.CORSOrigins: the origins whose pages
// a browser lets call the server.
func WithCORSOrigins[O ~func(P), P serverConfigured](origins ...string) O {
	return serverOption[O](ServerConfig{CORSOrigins: origins})
}

// WithTracerProvider sets ServerConfig.Tracer: the server opens a span
// for every call with tp (nil: tracing off, the default).
func WithTracerProvider[O ~func(P), P serverConfigured](tp trace.TracerProvider) O {
	return serverOption[O](ServerConfig{Tracer: tp})
}

// WithClientTracerProvider sets ClientConfig.Tracer: the client opens a
// span for every attempt with tp and sends its trace context where the
// transport carries metadata (nil: tracing off, the default).
func WithClientTracerProvider[O ~func(P), P clientConfigured](tp trace.TracerProvider) O {
	return clientOption[O](ClientConfig{Tracer: tp})
}

// WithClientTLS sets ClientConfig.TLS: the client speaks TLS with config
// (from tlsconf.Client).
func WithClientTLS[O ~func(P), P clientConfigured](config *tls.Config) O {
	return clientOption[O](ClientConfig{TLS: config})
}

// WithToken sets ClientConfig.Token: the bearer token sent with every
// call.
func WithToken[O ~func(P), P clientConfigured](token string) O {
	return clientOption[O](ClientConfig{Token: token})
}

// WithConns sets ClientConfig.Conns: the connections a client spreads its
// calls over.
func WithConns[O ~func(P), P clientConfigured](n int) O {
	return clientOption[O](ClientConfig{Conns: n})
}

// WithDialTimeout sets ClientConfig.DialTimeout: the bound of each
// connection attempt.
func WithDialTimeout[O ~func(P), P clientConfigured](d time.Duration) O {
	return clientOption[O](ClientConfig{DialTimeout: d})
}

// WithDialer sets ClientConfig.Dialer: the function that opens the
// client's connections (a fault injector, a network emulator, TLS).
func WithDialer[O ~func(P), P clientConfigured](dial func(ctx context.Context, network, addr string) (net.Conn, error)) O {
	return clientOption[O](ClientConfig{Dialer: dial})
}

// WithCallTimeout sets ClientConfig.CallTimeout: the deadline of a call
// whose context has none.
func WithCallTimeout[O ~func(P), P clientConfigured](d time.Duration) O {
	return clientOption[O](ClientConfig{CallTimeout: d})
}

// serverOption is the option that applies o's non-zero fields.
func serverOption[O ~func(P), P serverConfigured](o ServerConfig) O {
	return O(func(p P) { p.sharedServerConfig().Apply(o) })
}

// clientOption is the option that applies o's non-zero fields.
func clientOption[O ~func(P), P clientConfigured](o ClientConfig) O {
	return O(func(p P) { p.sharedClientConfig().Apply(o) })
}

// serverConfigured is a transport's server config, which embeds
// ServerConfig.
type serverConfigured interface{ sharedServerConfig() *ServerConfig }

// clientConfigured is a transport's client config, which embeds
// ClientConfig.
type clientConfigured interface{ sharedClientConfig() *ClientConfig }

func (c *ServerConfig) sharedServerConfig() *ServerConfig { return c }
func (c *ClientConfig) sharedClientConfig() *ClientConfig { return c }
