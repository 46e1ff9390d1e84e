package tlsconf

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/igbank/igbank/common/logs"
)

// Limits bound the handshakes of a Listener.
type Limits struct {
	// Handshakes is how many handshakes may be in progress at once
	// (default 128). A connection that arrives while that many are in
	// progress is closed at once: a flood of slow handshakes cannot pile
	// up, and established connections are not touched.
	Handshakes int
	// Timeout bounds one handshake, from the connection's arrival
	// (default 10 s): a peer that sends half a ClientHello and stops is
	// cut off.
	Timeout time.Duration
	// Logger, if not nil, receives a record for every handshake that
	// failed (level WARN, with the peer and the error, as net/http's
	// servers log theirs) and every connection closed because too many
	// handshakes were in progress (level DEBUG: a flood must not flood
	// the log). The transports set it to their server's logger.
	Logger *slog.Logger
}

// Logged returns lim with logger as its Logger.
func (lim Limits) Logged(logger *slog.Logger) Limits {
	lim.Logger = logger
	return lim
}

// Listener returns a listener that accepts TCP connections from inner
// and hands out only those that completed a TLS handshake with config:
// the handshakes run on goroutines of their own, so a slow peer never
// holds up the accept loop of the server above, and within lim. A
// connection whose handshake fails (garbage, a plaintext client, a
// certificate from another CA) is closed and never handed out.
func Listener(inner net.Listener, config *tls.Config, lim Limits) net.Listener {
	if lim.Handshakes <= 0 {
		lim.Handshakes = 128
	}
	if lim.Timeout <= 0 {
		lim.Timeout = 10 * time.Second
	}
	l := &listener{inner: inner, config: config, lim: lim,
		sem: make(chan struct{}, lim.Handshakes), ready: make(chan net.Conn), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

type listener struct {
	inner  net.Listener
	config *tls.Config
	lim    Limits
	sem    chan struct{} // one token per handshake in progress
	ready  chan net.Conn // handshaken connections, to Accept
	done   chan struct{} // closed by Close

	mu      sync.Mutex
	err     error // of inner's Accept, once it failed
	closing sync.Once
}

func (l *listener) acceptLoop() {
	for {
		c, err := l.inner.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
			l.Close()
			return
		}
		select {
		case l.sem <- struct{}{}:
			go l.handshake(c)
		default:
			if lg := l.lim.Logger; lg != nil {
				lg.Debug("connection closed: too many TLS handshakes in progress", logs.Peer, c.RemoteAddr().String())
			}
			c.Close() // too many handshakes in progress
		}
	}
}

func (l *listener) handshake(c net.Conn) {
	defer func() { <-l.sem }()
	tc := tls.Server(c, l.config)
	ctx, cancel := context.WithTimeout(context.Background(), l.lim.Timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		if lg := l.lim.Logger; lg != nil {
			lg.Warn("TLS handshake failed", logs.Peer, c.RemoteAddr().String(), logs.Err, err)
		}
		c.Close()
		return
	}
	select {
	case l.ready <- tc:
	case <-l.done:
		tc.Close()
	}
}

// Accept returns the next connection whose handshake is complete.
func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting; handshakes in progress end with their
// connections closed.
func (l *listener) Close() error {
	var err error
	l.closing.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

// Addr returns inner's address.
func (l *listener) Addr() net.Addr { return l.inner.Addr() }
