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
			Timeouts: transport.Timeouts{Read: 10 * time.Second, Write: 10 * time.Second, Idle: 5 * time.Minute, FirstRequest: 5 * time.Second},
			Logger:   slog.Default(),
		},
		maxCallsPerConn: 64,
	}
}

// The shared options (package transport has the table). Zero keeps the
// default, a negative value turns the limit or timeout off.
var (
	// WithMaxConns limits the connections served at once (default 1024;
	// package admit). A connection beyond the limit never waits in the
	// listen queue: the oldest connection that has sent nothing, else the
	// one idle the longest (no call in flight), is closed to make room;
	// if every connection has a call in flight, the new one gets a
	// Goodbye unavailable at once (with TLS, it is closed: its client
	// reports unavailable too). Connections still in their TLS handshake
	// count toward the limit.
	WithMaxConns = transport.WithMaxConns[ServerOption]
	// WithTimeouts sets the connection timeouts: Read bounds the time from
	// a frame's first byte to its last (default 10 s), Write each write of
	// a batch of replies, past which the connection is closed (10 s),
	// Idle closes a connection with no call in flight that has not begun
	// a frame (5 min), FirstRequest closes a new connection whose first
	// frame is not in within this of its accept, TLS handshake included
	// (5 s).
	WithTimeouts = transport.WithTimeouts[ServerOption]
	// WithLogger sets where the server reports recovered panics and
	// accept errors (default slog.Default()).
	WithLogger = transport.WithLogger[ServerOption]
	// WithTLS makes the server speak TLS with config (tlsconf.Server;
	// default plaintext) and ALPN "igbank-raw/1". The handshakes run off
	// the accept loop (tlsconf.Listener), bounded by limits in number and
	// time; a handshake that fails costs only its own connection. With a
	// client CA (mutual TLS) the client certificate's subject is the
	// caller of every call on its connection.
	WithTLS = transport.WithTLS[ServerOption]
	// WithTokens checks the bearer tokens that clients send with the Auth
	// op, once per connection (PROTOCOL.md, "Authentication"); without it
	// (the default) every Auth is answered unauthenticated.
	WithTokens = transport.WithTokens[ServerOption]
)

// WithMaxCallsPerConn limits the calls in flight on one connection (default
// 64); past it, the server stops reading that connection until a call ends.
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
	// net.Dialer), for example to inject faults in tests; TLS
	// (WithClientTLS) runs over the connections it opens.
	WithDialer = transport.WithDialer[ClientOption]
	// WithClientTLS makes the client speak TLS with config
	// (tlsconf.Client; default plaintext), offering ALPN "igbank-raw/1"
	// and checking the server's certificate for the host of the address
	// dialed unless config names a ServerName. The handshake is part of
	// each connection attempt, within WithDialTimeout. A client
	// certificate in config authenticates the client (mutual TLS).
	WithClientTLS = transport.WithClientTLS[ClientOption]
	// WithToken makes the client authenticate every connection with this
	// bearer token: its first request is an Auth, answered before any
	// call is sent on it. A refused token fails the dial (and so Dial,
	// or the call that needed the connection) with unauthenticated. A
	// server of revision 1.0, which has no Auth, is unauthenticated too.
	WithToken = transport.WithToken[ClientOption]
)

// Transport describes the raw-sockets transport for the load generator,
// the cluster, the cmd/ programs and the tests that run every transport.
var Transport = transport.Descriptor{
	Name:        "raw",
	Module:      "github.com/igbank/igbank/raw-sockets",
	DefaultAddr: "127.0.0.1:7001",
	Tokens:      true,
	Variants: []transport.Variant{
		{Name: "raw", Pooled: true, NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial)},
	},
}
