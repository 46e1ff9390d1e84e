// Package connserver runs the connection-oriented half of a TCP server that
// the transports without an HTTP stack share: the set of listeners, the set
// of connections, the accept loop with its backoff on accept errors, and
// the graceful shutdown protocol. The transports limit their connections
// with package admit, on the listener they give to Serve; Config's own
// MaxConns (a wait in the backlog, or a plain refusal) is the older, simpler
// limit. What a connection
// does, and how it winds down, is the transport's: it hands each accepted
// net.Conn to Config.NewConn and gets back a Conn.
package connserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/logs"
	"golang.org/x/net/netutil"
)

// Conn is one served connection, as the transport implements it.
type Conn interface {
	// Serve runs the connection until it ends, and closes it.
	Serve()
	// Drain asks the connection to stop taking new calls, finish the ones
	// in flight and then close (Serve returns). It is called once, by
	// Shutdown, with the server's lock held: it must not block. After
	// Drain begins, ShuttingDown reports true.
	Drain()
	// Close cuts the connection off at once. It is called with the
	// server's lock held when Shutdown gives up waiting, and for a
	// connection accepted while the server was shutting down (then
	// Serve is never called). It may be called more than once, also after
	// Serve returned.
	Close()
}

// Config configures a Server.
type Config struct {
	// NewConn makes the Conn that serves nc. It runs on the accept loop's
	// goroutine and should be quick.
	NewConn func(nc net.Conn) Conn
	// MaxConns > 0 limits the connections served at once. By default a
	// connection beyond the limit waits in the listener's backlog until
	// another closes (netutil.LimitListener).
	MaxConns int
	// RejectOverLimit makes a connection beyond MaxConns be accepted and
	// closed at once instead, so that its client fails fast.
	RejectOverLimit bool
	// Logger, if not nil, receives the accept errors that the loop
	// retries.
	Logger *slog.Logger
	// Abort, if not nil, is called when Shutdown gives up waiting, before
	// it closes the connections (to cancel the calls' contexts, say).
	Abort func()
}

// Accept errors other than a closed listener (out of file descriptors and
// the like) are retried after a pause that doubles from acceptBackoffMin
// up to acceptBackoffMax, as net/http does.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// Server accepts and tracks connections. Its zero value is not usable; use
// New.
type Server struct {
	cfg Config

	shutting  atomic.Bool // set under mu, read without it
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[Conn]struct{}
	wg        sync.WaitGroup // one per connection in conns
}

// New returns a server configured by cfg; cfg.NewConn must be set.
func New(cfg Config) *Server {
	if cfg.NewConn == nil {
		panic("connserver: Config.NewConn is nil")
	}
	return &Server{
		cfg:       cfg,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[Conn]struct{}),
	}
}

// ShuttingDown reports whether Shutdown has begun. Shutdown sets it, under
// the server's lock, before it calls Drain on any connection, so a
// connection that stores its own state and then loads this flag, while
// Drain loads that state, cannot miss both.
func (s *Server) ShuttingDown() bool { return s.shutting.Load() }

// Serve accepts connections on l and serves each on its own goroutine
// until Shutdown, and then returns nil; after Shutdown it returns nil at
// once. Any other return is an error of the listener. It closes l.
func (s *Server) Serve(l net.Listener) error {
	if s.cfg.MaxConns > 0 && !s.cfg.RejectOverLimit {
		l = netutil.LimitListener(l, s.cfg.MaxConns)
	}
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()

	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.shutting.Load() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			if s.cfg.Logger != nil {
				s.cfg.Logger.Warn("accept failed; retrying", logs.Err, err, logs.Duration, backoff)
			}
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !s.track(nc) {
			return nil
		}
	}
}

// track starts serving nc and reports true, or closes it and reports
// false if the server is shutting down. A connection over a MaxConns
// with RejectOverLimit is closed, and track reports true.
func (s *Server) track(nc net.Conn) bool {
	c := s.cfg.NewConn(nc)
	s.mu.Lock()
	switch {
	case s.shutting.Load():
		s.mu.Unlock()
		c.Close()
		return false
	case s.cfg.RejectOverLimit && s.cfg.MaxConns > 0 && len(s.conns) >= s.cfg.MaxConns:
		s.mu.Unlock()
		c.Close()
		return true
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.Serve()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	return true
}

// Shutdown stops accepting (it closes every listener, and Serve returns
// nil), drains every connection and waits until they have all ended. If
// ctx ends first, it calls Config.Abort, closes every connection that is
// left and returns ctx.Err(); it does not wait for their Serve to return.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutting.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.Drain()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	if s.cfg.Abort != nil {
		s.cfg.Abort()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	return ctx.Err()
}
