package thriftbank

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/igbank/igbank/common/transport"
)

// Protocol is the Thrift protocol that encodes messages inside each frame.
// Server and client must use the same one.
type Protocol uint8

const (
	// Binary is TBinaryProtocol in strict mode, the default.
	Binary Protocol = iota
	// Compact is TCompactProtocol: varints and field-id deltas, so smaller
	// messages for a little more CPU.
	Compact
)

// String returns "binary" or "compact".
func (p Protocol) String() string {
	switch p {
	case Binary:
		return "binary"
	case Compact:
		return "compact"
	}
	return fmt.Sprintf("protocol(%d)", uint8(p))
}

// ParseProtocol is the inverse of Protocol.String.
func ParseProtocol(s string) (Protocol, error) {
	switch s {
	case "binary":
		return Binary, nil
	case "compact":
		return Compact, nil
	}
	return 0, fmt.Errorf("thriftbank: unknown protocol %q (want binary or compact)", s)
}

// Set implements flag.Value, so a *Protocol can be a command-line flag.
func (p *Protocol) Set(s string) error {
	v, err := ParseProtocol(s)
	if err == nil {
		*p = v
	}
	return err
}

// DefaultMaxFrameSize is the largest frame, and so the largest message,
// either side accepts unless WithMaxFrameSize says otherwise. A statement
// page of bank.MaxPageSize transactions of the largest size takes about
// 436 KB, 42% of it (TestLargestPageFitsTheFrame).
const DefaultMaxFrameSize = 1 << 20

// wireConfig is what server and client must agree on.
type wireConfig struct {
	protocol     Protocol
	maxFrameSize int32
}

func defaultWire() wireConfig { return wireConfig{protocol: Binary, maxFrameSize: DefaultMaxFrameSize} }

// tconf is the library's configuration for the wire settings: the frame
// and message limits, strict binary encoding.
func (w wireConfig) tconf() *thrift.TConfiguration {
	return &thrift.TConfiguration{
		MaxFrameSize:       w.maxFrameSize,
		MaxMessageSize:     w.maxFrameSize,
		TBinaryStrictRead:  thrift.BoolPtr(true),
		TBinaryStrictWrite: thrift.BoolPtr(true),
	}
}

func (w wireConfig) protocolFactory() thrift.TProtocolFactory {
	if w.protocol == Compact {
		return thrift.NewTCompactProtocolFactoryConf(w.tconf())
	}
	return thrift.NewTBinaryProtocolFactoryConf(w.tconf())
}

// setFrameSize sets the largest frame; values < 1 keep the default.
func (w *wireConfig) setFrameSize(n int32) {
	if n > 0 {
		w.maxFrameSize = n
	}
}

// ServerOption configures NewServer.
type ServerOption func(*serverConfig)

type serverConfig struct {
	transport.ServerConfig
	wire wireConfig
}

func defaultServerConfig() serverConfig {
	return serverConfig{
		ServerConfig: transport.ServerConfig{
			MaxConns:       1024,
			Timeouts:       transport.Timeouts{Read: 10 * time.Second, Write: 10 * time.Second, Idle: 2 * time.Minute, FirstRequest: 5 * time.Second},
			MaxCallTimeout: 30 * time.Second,
			Logger:         slog.Default(),
		},
		wire: defaultWire(),
	}
}

// The shared options (package transport has the table). Zero keeps the
// default, a negative value turns the limit or timeout off.
var (
	// WithMaxConns limits how many connections the server holds open at
	// once (1024 by default; package admit). A connection beyond the
	// limit never waits: the oldest connection that has sent nothing,
	// else the one idle the longest (no call in progress), is closed to
	// make room; if every connection has a call in progress, the new one
	// is accepted and closed at once, so its client fails fast with
	// Unavailable. Connections in their TLS handshake count too.
	WithMaxConns = transport.WithMaxConns[ServerOption]
	// WithTimeouts sets the server's socket timeouts: Read is how long
	// the rest of a request may take to arrive once its first byte has
	// (10 s by default), Write how long one response write may take,
	// past which the connection is closed (10 s), Idle how long a
	// connection may wait for its next request (2 min), FirstRequest how
	// long a new connection has, from its accept and TLS handshake
	// included, to send its first whole request frame (5 s).
	WithTimeouts = transport.WithTimeouts[ServerOption]
	// WithMaxCallTimeout bounds how long a handler may run: its context
	// ends after it (30 s by default). Framed Thrift does not carry the
	// caller's deadline, so this is the server's only bound on a call.
	WithMaxCallTimeout = transport.WithMaxCallTimeout[ServerOption]
	// WithLogger sets where the server logs handler panics and failures
	// of its own (slog.Default() by default).
	WithLogger = transport.WithLogger[ServerOption]
	// WithTLS makes the server speak TLS with config (tlsconf.Server;
	// default plaintext) and ALPN "igbank-thrift-binary/1" or
	// "igbank-thrift-compact/1", its protocol's (Protocol.ALPN). The
	// handshakes run off the accept loop (tlsconf.Listener), bounded by
	// limits in number and time; a handshake that fails costs only its
	// own connection. With a client CA (mutual TLS) the client
	// certificate's subject is the caller of every call on its
	// connection: this transport's only credential (no WithTokens:
	// framed Thrift has no place for a bearer token).
	WithTLS = transport.WithTLS[ServerOption]
)

// WithProtocol selects the server's protocol (Binary by default); its
// clients must use the same (WithClientProtocol).
func WithProtocol(p Protocol) ServerOption {
	return func(c *serverConfig) { c.wire.protocol = p }
}

// WithMaxFrameSize sets the largest frame (4-byte length prefix excluded)
// that the server writes, and reads up to MaxRequestFrame: a longer
// request is refused before any of it is buffered, and the connection is
// closed. Values < 1 keep the default, DefaultMaxFrameSize.
func WithMaxFrameSize(n int32) ServerOption {
	return func(c *serverConfig) { c.wire.setFrameSize(n) }
}

// ClientOption configures Dial.
type ClientOption func(*clientConfig)

type clientConfig struct {
	transport.ClientConfig
	wire wireConfig
}

func defaultClientConfig() clientConfig {
	return clientConfig{
		ClientConfig: transport.ClientConfig{Conns: 128, DialTimeout: 5 * time.Second, CallTimeout: 30 * time.Second},
		wire:         defaultWire(),
	}
}

// The shared options of the client (package transport has the table).
var (
	// WithConns sets how many connections the client opens at most (128
	// by default). Each carries one call at a time; callers beyond that
	// wait for a free connection (within their deadline).
	WithConns = transport.WithConns[ClientOption]
	// WithDialTimeout bounds each connection attempt (5 s by default),
	// within the caller's deadline.
	WithDialTimeout = transport.WithDialTimeout[ClientOption]
	// WithDialer sets the function that opens connections (default a
	// net.Dialer), for example to inject faults; TLS (WithClientTLS) runs
	// over the connections it opens.
	WithDialer = transport.WithDialer[ClientOption]
	// WithClientTLS makes the client speak TLS with config
	// (tlsconf.Client; default plaintext), offering its protocol's ALPN
	// (Protocol.ALPN) and checking the server's certificate for the host
	// of the address dialed unless config names a ServerName. The
	// handshake is part of each connection attempt, within
	// WithDialTimeout. A client certificate in config authenticates the
	// client (mutual TLS); there is no WithToken.
	WithClientTLS = transport.WithClientTLS[ClientOption]
	// WithCallTimeout is the deadline of a call whose context has none
	// (30 s by default; negative: wait as long as the connection lives).
	WithCallTimeout = transport.WithCallTimeout[ClientOption]
)

// WithClientProtocol selects the client's protocol (Binary by default);
// it must be the server's (WithProtocol).
func WithClientProtocol(p Protocol) ClientOption {
	return func(c *clientConfig) { c.wire.protocol = p }
}

// WithClientMaxFrameSize sets the largest frame the client reads, as
// WithMaxFrameSize does for the server.
func WithClientMaxFrameSize(n int32) ClientOption {
	return func(c *clientConfig) { c.wire.setFrameSize(n) }
}

// Transport describes the Thrift transport, in its binary and compact
// protocols, for the load generator, the cluster, the cmd/ programs and
// the tests that run every transport.
var Transport = transport.Descriptor{
	Name:           "thrift",
	Module:         "github.com/igbank/igbank/thrift",
	DefaultAddr:    "127.0.0.1:7005",
	ServerProtocol: true,
	Variants: []transport.Variant{
		{Name: "thrift", Protocol: Binary.String(), Pooled: true,
			NewServer: transport.ServerFor(NewServer), Dial: transport.DialerFor(Dial)},
		{Name: "thrift-compact", Protocol: Compact.String(), Pooled: true,
			NewServer: transport.ServerFor(NewServer, WithProtocol(Compact)), Dial: transport.DialerFor(Dial, WithClientProtocol(Compact))},
	},
}
