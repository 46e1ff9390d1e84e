package thriftbank

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
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
// of a month with about 20,000 transactions still fits.
const DefaultMaxFrameSize = 1 << 20

// ServerOption configures NewServer.
type ServerOption interface{ applyServer(*serverConfig) }

// ClientOption configures Dial.
type ClientOption interface{ applyClient(*clientConfig) }

// Option configures both sides; it is a ServerOption and a ClientOption.
type Option interface {
	ServerOption
	ClientOption
}

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

type wireOption func(*wireConfig)

func (o wireOption) applyServer(c *serverConfig) { o(&c.wire) }
func (o wireOption) applyClient(c *clientConfig) { o(&c.wire) }

// WithProtocol selects the protocol (Binary by default) on either side.
func WithProtocol(p Protocol) Option {
	return wireOption(func(w *wireConfig) { w.protocol = p })
}

// WithMaxFrameSize sets the largest frame (4-byte length prefix excluded)
// that the side reads: a longer one is refused before any of it is
// buffered, and the connection is closed. Values < 1 keep the default,
// DefaultMaxFrameSize.
func WithMaxFrameSize(n int32) Option {
	return wireOption(func(w *wireConfig) {
		if n > 0 {
			w.maxFrameSize = n
		}
	})
}

type serverConfig struct {
	logger       *slog.Logger
	wire         wireConfig
	maxConns     int
	readTimeout  time.Duration
	writeTimeout time.Duration
	idleTimeout  time.Duration
	callTimeout  time.Duration
}

func defaultServerConfig() serverConfig {
	return serverConfig{
		logger:       slog.Default(),
		wire:         defaultWire(),
		maxConns:     1024,
		readTimeout:  10 * time.Second,
		writeTimeout: 10 * time.Second,
		idleTimeout:  2 * time.Minute,
		callTimeout:  30 * time.Second,
	}
}

type serverOption func(*serverConfig)

func (o serverOption) applyServer(c *serverConfig) { o(c) }

// WithLogger sets where the server logs handler panics and failures of
// its own (slog.Default() by default).
func WithLogger(l *slog.Logger) ServerOption {
	return serverOption(func(c *serverConfig) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithMaxConns limits how many connections the server holds open at once
// (1024 by default). A connection beyond the limit is accepted and closed
// at once, so its client fails fast with Unavailable instead of hanging.
func WithMaxConns(n int) ServerOption {
	return serverOption(func(c *serverConfig) { c.maxConns = n })
}

// WithTimeouts sets the server's socket timeouts: read is how long the
// rest of a request may take to arrive once its first byte has (10 s by
// default), write how long one response write may take (10 s), idle how
// long a connection may wait for its next request (2 min). Zero turns one
// off.
func WithTimeouts(read, write, idle time.Duration) ServerOption {
	return serverOption(func(c *serverConfig) {
		c.readTimeout, c.writeTimeout, c.idleTimeout = read, write, idle
	})
}

// WithCallTimeout bounds how long a handler may run: its context ends
// after d (30 s by default; 0: no bound). Framed Thrift does not carry
// the caller's deadline, so this is the server's only bound on a call.
func WithCallTimeout(d time.Duration) ServerOption {
	return serverOption(func(c *serverConfig) { c.callTimeout = d })
}

type clientConfig struct {
	wire        wireConfig
	poolSize    int
	dialTimeout time.Duration
	callTimeout time.Duration
}

func defaultClientConfig() clientConfig {
	return clientConfig{
		wire:        defaultWire(),
		poolSize:    128,
		dialTimeout: 5 * time.Second,
		callTimeout: 30 * time.Second,
	}
}

type clientOption func(*clientConfig)

func (o clientOption) applyClient(c *clientConfig) { o(c) }

// WithPoolSize sets how many connections the client opens at most (128 by
// default). Each carries one call at a time; callers beyond that wait for
// a free connection (within their deadline).
func WithPoolSize(n int) ClientOption {
	return clientOption(func(c *clientConfig) {
		if n > 0 {
			c.poolSize = n
		}
	})
}

// WithDialTimeout bounds each connection attempt (5 s by default), within
// the caller's deadline.
func WithDialTimeout(d time.Duration) ClientOption {
	return clientOption(func(c *clientConfig) { c.dialTimeout = d })
}

// WithDefaultCallTimeout is the deadline of a call whose context has none
// (30 s by default; 0: wait as long as the connection lives).
func WithDefaultCallTimeout(d time.Duration) ClientOption {
	return clientOption(func(c *clientConfig) { c.callTimeout = d })
}
