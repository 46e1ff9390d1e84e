package rawbank

import (
	"log/slog"
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

// The shared options (package transport has the table). Zero keeps the
// default, a negative value turns the limit or timeout off.
var (
	// WithMaxConns limits the connections served at once (default 1024);
	// a connection beyond the limit waits in the listen queue until
	// another closes.
	WithMaxConns = transport.WithMaxConns[ServerOption]
	// WithTimeouts sets the connection timeouts: Read bounds the time from
	// a frame's first byte to its last (default 10 s), Write each write of
	// a batch of replies (10 s), Idle closes a connection with no call in
	// flight that has not begun a frame (5 min).
	WithTimeouts = transport.WithTimeouts[ServerOption]
	// WithLogger sets where the server reports recovered panics and
	// accept errors (default slog.Default()).
	WithLogger = transport.WithLogger[ServerOption]
)

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

// The shared options of the client (package transport has the table).
var (
	// WithConns sets how many connections the client spreads its calls
	// over (default 2). One is often fastest for throughput; more spread
	// the server's work over more of its goroutines.
	WithConns = transport.WithConns[ClientOption]
	// WithDialTimeout bounds each connection attempt (default 5 s), on top
	// of the caller's deadline.
	WithDialTimeout = transport.WithDialTimeout[ClientOption]
	// WithDialer sets the function that opens connections (default a
	// net.Dialer), for example to add TLS or to inject faults in tests.
	WithDialer = transport.WithDialer[ClientOption]
)

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
