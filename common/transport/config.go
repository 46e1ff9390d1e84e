package transport

import (
	"context"
	"log/slog"
	"net"
	"time"
)

// ServerConfig holds the settings that every transport's server has under
// one name (the package documentation has the table). Each transport's
// server config embeds it; a zero field keeps the transport's default and
// a negative one turns the limit off.
type ServerConfig struct {
	// MaxConns bounds the connections served at once (WithMaxConns).
	MaxConns int
	// Timeouts bound a connection's reads, writes and idleness
	// (WithTimeouts).
	Timeouts Timeouts
	// MaxCallTimeout bounds how long the server runs one call, whatever
	// deadline the caller sent (WithMaxCallTimeout).
	MaxCallTimeout time.Duration
	// Logger receives what no caller sees: recovered panics, failed
	// accepts (WithLogger).
	Logger *slog.Logger
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
}

// Apply sets in t the timeouts that are not zero in o.
func (t *Timeouts) Apply(o Timeouts) {
	setDuration(&t.Read, o.Read)
	setDuration(&t.Write, o.Write)
	setDuration(&t.Idle, o.Idle)
}

// Apply sets in c the fields that are not zero in o.
func (c *ClientConfig) Apply(o ClientConfig) {
	setInt(&c.Conns, o.Conns)
	setDuration(&c.DialTimeout, o.DialTimeout)
	setDuration(&c.CallTimeout, o.CallTimeout)
	if o.Dialer != nil {
		c.Dialer = o.Dialer
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
