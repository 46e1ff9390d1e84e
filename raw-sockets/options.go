package rawbank

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/igbank/igbank/common/transport"
)

// ServerOption configures a Server.
type ServerOption func(*serverConfig)

type serverConfig struct {
	transport.ServerConfig
	maxCallsPerConn int
}

func defaultServerConfig() serverConfig {
	return serverConfig{
		ServerConfig: transport.ServerConfig{
			MaxConns: 1024,
			Timeouts: transport.Timeouts{Read: 10 * time.Second, Write: 10 * time.Second, Idle: 5 * time.Minute},
			Logger:   slog.Default(),
		},
		maxCallsPerConn: 512,
	}
}

func serverShared(o transport.ServerConfig) ServerOption {
	return func(c *serverConfig) { c.Apply(o) }
}

// WithMaxConns limits the connections served at once (default 1024); a
// connection beyond the limit waits in the listen queue until another
// closes. Negative: no limit.
func WithMaxConns(n int) ServerOption { return serverShared(transport.ServerConfig{MaxConns: n}) }

// WithTimeouts sets the connection timeouts: Read bounds the time from a
// frame's first byte to its last (default 10 s), Write each write of a
// batch of replies (10 s), Idle closes a connection with no call in
// flight that has not begun a frame (5 min).
func WithTimeouts(t transport.Timeouts) ServerOption {
	return serverShared(transport.ServerConfig{Timeouts: t})
}

// WithLogger sets where the server reports recovered panics and accept
// errors (default slog.Default()).
func WithLogger(l *slog.Logger) ServerOption { return serverShared(transport.ServerConfig{Logger: l}) }

// WithMaxCallsPerConn limits the calls in flight on one connection (default
// 512); past it, the server stops reading that connection until a call ends.
func WithMaxCallsPerConn(n int) ServerOption {
	return func(c *serverConfig) { c.maxCallsPerConn = max(n, 1) }
}

// ClientOption configures a Client.
type ClientOption func(*clientConfig)

type clientConfig struct {
	transport.ClientConfig
}

func defaultClientConfig() clientConfig {
	return clientConfig{transport.ClientConfig{Conns: 2, DialTimeout: 5 * time.Second}}
}

func clientShared(o transport.ClientConfig) ClientOption {
	return func(c *clientConfig) { c.Apply(o) }
}

// WithConns sets how many connections the client spreads its calls over
// (default 2). One is often fastest for throughput; more spread the server's
// work over more of its goroutines.
func WithConns(n int) ClientOption { return clientShared(transport.ClientConfig{Conns: n}) }

// WithDialTimeout bounds each connection attempt (default 5 seconds), on top
// of the caller's deadline.
func WithDialTimeout(d time.Duration) ClientOption {
	return clientShared(transport.ClientConfig{DialTimeout: d})
}

// WithDialer sets the function that opens connections (default a
// net.Dialer), for example to add TLS or to inject faults in tests.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) ClientOption {
	return clientShared(transport.ClientConfig{Dialer: dial})
}

// Transport describes the raw-sockets transport for the load generator,
// the cluster, the cmd/ programs and the tests that run every transport.
var Transport = transport.Descriptor{
	Name:        "raw",
	Module:      "github.com/igbank/igbank/raw-sockets",
	DefaultAddr: "127.0.0.1:7001",
	Variants: []transport.Variant{
		{Name: "raw", Pooled: true, NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial)},
	},
}
