package netrpcbank

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
	maxRequestBytes int64
}

func defaultServerConfig() serverConfig {
	return serverConfig{
		ServerConfig: transport.ServerConfig{
			MaxConns:       1024,
			Timeouts:       transport.Timeouts{Read: 10 * time.Second, Write: 10 * time.Second, Idle: 2 * time.Minute, FirstRequest: 5 * time.Second},
			MaxCallTimeout: 30 * time.Second,
			Logger:         slog.Default(),
		},
		maxCallsPerConn: 64,
		maxRequestBytes: 64 << 10,
	}
}

// The shared options (package transport has the table). Zero keeps the
// default, a negative value turns the limit or timeout off.
var (
	// WithMaxConns limits how many connections the server holds at once
	// (default 1024; package admit). A connection beyond the limit never
	// waits in the listen backlog: the oldest connection that has sent
	// nothing, else the one idle the longest (no call running), is closed
	// to make room; if every connection has a call running, the new one
	// is closed at once and its client reports bank.ErrUnavailable. With
	// TLS, connections still in their handshake count too.
	WithMaxConns = transport.WithMaxConns[ServerOption]
	// WithTimeouts sets the connection timeouts: Read bounds the time to
	// read one request once its first byte has arrived, and a connection
	// that stalls mid-request is closed (default 10 s); Write bounds the
	// time to write one reply, and a client that does not read its
	// replies has its connection closed (10 s); Idle closes a connection
	// that has no call running and sends no request (2 min); FirstRequest
	// closes a new connection whose first request header has not arrived
	// within this of its accept, TLS handshake included (5 s).
	WithTimeouts = transport.WithTimeouts[ServerOption]
	// WithMaxCallTimeout bounds the context of every call the server
	// runs: a call gets the Timeout its arguments carry, but never more
	// than this, and this when they carry none (default 30 s).
	WithMaxCallTimeout = transport.WithMaxCallTimeout[ServerOption]
	// WithLogger sets where the server logs what no caller sees: a
	// recovered panic, a failed Accept (default slog.Default()).
	WithLogger = transport.WithLogger[ServerOption]
	// WithTLS makes the server speak TLS with config (tlsconf.Server;
	// default plaintext) and ALPN "igbank-netrpc/1". The handshakes run
	// off the accept loop (tlsconf.Listener), bounded by limits in number
	// and time; a handshake that fails costs only its own connection.
	// With a client CA (mutual TLS) the client certificate's subject is
	// the caller of every call on its connection.
	WithTLS = transport.WithTLS[ServerOption]
	// WithTokens checks the bearer tokens that clients send with
	// IGBank.Authenticate, once per connection (AuthenticateArgs);
	// without it (the default) every token is refused as unauthenticated.
	WithTokens = transport.WithTokens[ServerOption]
)

// WithMaxCallsPerConn limits how many calls of one connection run at once
// (default 64). net/rpc starts a goroutine per request; past the limit
// the server stops reading that connection until a call finishes, which
// pushes back on the client through TCP.
func WithMaxCallsPerConn(n int) ServerOption {
	return func(c *serverConfig) { c.maxCallsPerConn = max(n, 1) }
}

// WithMaxRequestBytes limits the size of one request (the gob header and
// arguments, and on a connection's first request the gob type
// definitions; default 64 KiB, at least 4 KiB). A connection that sends
// more is closed. The count is of bytes read from the socket since the
// request began, so the limit is approximate to one read buffer (4 KiB).
func WithMaxRequestBytes(n int64) ServerOption {
	return func(c *serverConfig) { c.maxRequestBytes = max(n, 4<<10) }
}

// ClientOption configures a Client.
type ClientOption func(*clientConfig)

type clientConfig struct {
	transport.ClientConfig
	writeTimeout time.Duration
}

func defaultClientConfig() clientConfig {
	return clientConfig{
		ClientConfig: transport.ClientConfig{Conns: 1, DialTimeout: 5 * time.Second},
		writeTimeout: 10 * time.Second,
	}
}

// The shared options of the client (package transport has the table).
var (
	// WithConns sets how many connections the client spreads its calls
	// over, round robin (default 1). net/rpc multiplexes any number of
	// calls on one connection; more can help many parallel callers on
	// several cores.
	WithConns = transport.WithConns[ClientOption]
	// WithDialTimeout bounds each connection attempt, within the caller's
	// own deadline (default 5 s).
	WithDialTimeout = transport.WithDialTimeout[ClientOption]
	// WithDialer replaces the function that opens connections (a
	// net.Dialer's DialContext by default), for example to go through a
	// fault injecting proxy; TLS (WithClientTLS) runs over the
	// connections it opens.
	WithDialer = transport.WithDialer[ClientOption]
	// WithClientTLS makes the client speak TLS with config
	// (tlsconf.Client; default plaintext), offering ALPN
	// "igbank-netrpc/1" and checking the server's certificate for the
	// host of the address dialed unless config names a ServerName. The
	// handshake is part of each connection attempt, within
	// WithDialTimeout. A client certificate in config authenticates the
	// client (mutual TLS).
	WithClientTLS = transport.WithClientTLS[ClientOption]
	// WithToken makes the client authenticate every connection with this
	// bearer token: its first call is IGBank.Authenticate, answered before
	// any other call is sent on it. A refused token fails the dial (and
	// so Dial, or the call that needed the connection) with
	// unauthenticated; so does a server that has no IGBank.Authenticate.
	WithToken = transport.WithToken[ClientOption]
)

// WithClientWriteTimeout bounds the time to write one request (default
// 10 s). net/rpc sends a request before the call can wait on its context,
// so this, not the caller's deadline, bounds a send to a server that
// stopped reading; the connection is then replaced.
func WithClientWriteTimeout(d time.Duration) ClientOption {
	return func(c *clientConfig) { c.writeTimeout = d }
}

// Transport describes the net/rpc transport for the load generator, the
// cluster, the cmd/ programs and the tests that run every transport.
var Transport = transport.Descriptor{
	Name:        "netrpc",
	Module:      "github.com/igbank/igbank/netrpc",
	DefaultAddr: "127.0.0.1:7002",
	Tokens:      true,
	Variants: []transport.Variant{
		{Name: "netrpc", Pooled: true, NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial)},
	},
}
