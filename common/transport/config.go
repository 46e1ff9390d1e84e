package transport

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/admit"
	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/tlsconf"
)

// ServerConfig holds the settings that every transport's server has under
// one name (the package documentation has the table). Each transport's
// server config embeds it; a zero field keeps the transport's default and
// a negative one turns the limit off.
type ServerConfig struct {
	// MaxConns bounds the connections served at once (WithMaxConns);
	// when they are all taken, an idle one is reclaimed for a new one or
	// the new one is refused at once (package admit).
	MaxConns int
	// Timeouts bound a connection's reads, writes and idleness
	// (WithTimeouts).
	Timeouts Timeouts
	// MaxCallTimeout bounds how long the server runs one call, whatever
	// deadline the caller sent (WithMaxCallTimeout).
	MaxCallTimeout time.Duration
	// Logger receives what no caller sees: recovered panics, failed
	// accepts, the causes of internal errors (WithLogger). Its records
	// use the keys of package logs; each server adds transport=NAME.
	Logger *slog.Logger
	// TLS, when set, makes the server speak TLS with this config
	// (tlsconf.Server; WithTLS); nil serves plaintext. A config with
	// client CAs requires client certificates (mutual TLS), whose subject
	// is the caller's principal.
	TLS *tls.Config
	// Handshakes bound the TLS handshakes in progress and their duration,
	// on the transports that run their own (tlsconf.Limits; WithTLS).
	Handshakes tlsconf.Limits
	// Tokens, when set, checks the bearer tokens callers send, where the
	// transport carries one (WithTokens); nil refuses every token.
	Tokens *auth.Verifier
	// CORSOrigins are the origins ("https://bank.example:8443") whose
	// pages may call the server from a browser, where the transport
	// serves browsers (WithCORSOrigins; Descriptor.CORS). None, the
	// default, sends no CORS headers at all: a browser then refuses every
	// cross-origin call.
	CORSOrigins []string
	// Tracer, when set, makes the server open a span for every call and
	// continue the caller's trace where the transport carries W3C trace
	// context (WithTracerProvider; package traces). nil, the default,
	// adds nothing to the server: tracing off costs nothing.
	Tracer trace.TracerProvider
}

// Timeouts are a server's connection timeouts. A zero field keeps the
// transport's default; a negative one turns that timeout off.
type Timeouts struct {
	// Read bounds the time from a request's first byte to its last.
	Read time.Duration
	// Write bounds the time to write one response.
	Write time.Duration
	// Idle closes a connection with no call in progress that has sent
	// nothing for this long.
	Idle time.Duration
	// FirstRequest closes a new connection that has not sent its first
	// complete request this long after it was accepted (its TLS
	// handshake included): the admission of package admit.
	FirstRequest time.Duration
}

// ClientConfig holds the settings that every transport's client has under
// one name. Each transport's client config embeds it; a zero field keeps
// the transport's default.
type ClientConfig struct {
	// Conns is how many connections the client spreads its calls over
	// (WithConns).
	Conns int
	// DialTimeout bounds each connection attempt, within the caller's
	// deadline (WithDialTimeout).
	DialTimeout time.Duration
	// Dialer opens the client's connections; nil is a net.Dialer's
	// DialContext (WithDialer). A fault injector or a network emulator
	// goes here.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// CallTimeout is the deadline of a call whose context has none, where
	// the transport has one (WithCallTimeout).
	CallTimeout time.Duration
	// TLS, when set, makes the client speak TLS with this config
	// (tlsconf.Client; WithClientTLS), with a client certificate for
	// mutual TLS if it has one.
	TLS *tls.Config
	// Token is the bearer token the client sends with every call, where
	// the transport carries one (WithToken).
	Token string
	// Tracer, when set, makes the client open a span for every attempt
	// and send its W3C trace context where the transport carries
	// metadata (WithClientTracerProvider; package traces). nil, the
	// default, adds nothing to the client.
	Tracer trace.TracerProvider
}

// Apply sets in c the fields that are not zero in o: the settings a
// descriptor's caller chose, over the transport's defaults.
func (c *ServerConfig) Apply(o ServerConfig) {
	setInt(&c.MaxConns, o.MaxConns)
	c.Timeouts.Apply(o.Timeouts)
	setDuration(&c.MaxCallTimeout, o.MaxCallTimeout)
	if o.Logger != nil {
		c.Logger = o.Logger
	}
	if o.TLS != nil {
		c.TLS = o.TLS
	}
	setInt(&c.Handshakes.Handshakes, o.Handshakes.Handshakes)
	setDuration(&c.Handshakes.Timeout, o.Handshakes.Timeout)
	if o.Tokens != nil {
		c.Tokens = o.Tokens
	}
	if len(o.CORSOrigins) > 0 {
		c.CORSOrigins = o.CORSOrigins
	}
	if o.Tracer != nil {
		c.Tracer = o.Tracer
	}
}

// Apply sets in t the timeouts that are not zero in o.
func (t *Timeouts) Apply(o Timeouts) {
	setDuration(&t.Read, o.Read)
	setDuration(&t.Write, o.Write)
	setDuration(&t.Idle, o.Idle)
	setDuration(&t.FirstRequest, o.FirstRequest)
}

// Apply sets in c the fields that are not zero in o.
func (c *ClientConfig) Apply(o ClientConfig) {
	setInt(&c.Conns, o.Conns)
	setDuration(&c.DialTimeout, o.DialTimeout)
	setDuration(&c.CallTimeout, o.CallTimeout)
	if o.Dialer != nil {
		c.Dialer = o.Dialer
	}
	if o.TLS != nil {
		c.TLS = o.TLS
	}
	if o.Token != "" {
		c.Token = o.Token
	}
	if o.Tracer != nil {
		c.Tracer = o.Tracer
	}
}

func setInt(dst *int, v int) {
	if v != 0 {
		*dst = v
	}
}

func setDuration(dst *time.Duration, v time.Duration) {
	if v != 0 {
		*dst = v
	}
}

// Limit returns a configured limit or duration as the standard library
// reads one: a negative value (off) becomes 0 (none).
func Limit[T ~int | ~int64](v T) T { return max(v, 0) }

// DialContext returns the function that opens connections for c: its
// Dialer, or a net.Dialer, bounded by DialTimeout when it is positive.
func (c ClientConfig) DialContext() func(ctx context.Context, network, addr string) (net.Conn, error) {
	dial := c.Dialer
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	if c.DialTimeout <= 0 {
		return dial
	}
	timeout := c.DialTimeout
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return dial(ctx, network, addr)
	}
}

// Admission returns the connection admission of a server with c's
// settings (MaxConns, Timeouts.FirstRequest; off where negative), for
// the transport to put on the listeners it serves. refuse, if not nil,
// tells a connection refused at a full server why (admit.Config.Refuse).
func (c ServerConfig) Admission(refuse func(net.Conn)) *admit.Admission {
	return admit.New(admit.Config{
		MaxConns:     Limit(c.MaxConns),
		FirstRequest: Limit(c.Timeouts.FirstRequest),
		Refuse:       refuse,
		Logger:       c.Logger,
	})
}
