// Package admit is the connection admission of every transport's server:
// a connection limit that idle peers cannot use to lock others out.
//
// A server wraps its net.Listener with Admission.Listener, below TLS and
// below its own accept loop. Each accepted connection then holds a slot
// until it is closed, and:
//
//   - must complete its first request within Config.FirstRequest of being
//     accepted (its TLS handshake included), or it is closed;
//   - when the server is full, a new connection is never left waiting in
//     the listen backlog. An idle connection is reclaimed for it instead:
//     first one that has never sent a byte, the oldest; else one with no
//     call in progress, idle the longest. If every connection has a call
//     in progress (for 10 ms: a call about to end makes room), the new
//     one is accepted and refused at once (Config.Refuse: a Goodbye frame, an HTTP 503, or a plain close),
//     which its client reports as bank.ErrUnavailable.
//
// Whether a call is in progress is the transport's to say, through the
// Conn that Of returns for the connection it serves: Begin when a
// request has arrived whole and its call starts, End when its reply is
// written (ConnState does it for an http.Server). A connection whose
// transport says nothing counts as idle once it has sent a byte.
//
// A reclaimed connection is closed without warning, as an idle timeout
// closes it; a request that was on its way in that instant is lost with
// the connection, and its client sees bank.ErrUnavailable (retryable).
package admit

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/logs"
)

// Config configures an Admission.
type Config struct {
	// MaxConns is how many connections are served at once; 0 or less is
	// no limit (then nothing is reclaimed or refused).
	MaxConns int
	// FirstRequest is how long a new connection has, from its accept, to
	// complete its first request (Conn.Begin); 0 or less is no limit.
	FirstRequest time.Duration
	// Refuse, if not nil, tells a connection that the server is full
	// before it is closed (a Goodbye frame, an HTTP 503). It runs on a
	// goroutine of its own and must return within about a second; the
	// connection is closed after it. Nil closes the connection at once.
	Refuse func(net.Conn)
	// Logger, if not nil, receives a record at level DEBUG for every
	// connection reclaimed or refused, with its peer (the keys of package
	// logs). DEBUG, because a flood of connections to a full server would
	// otherwise flood the log too; Stats counts them at every level.
	Logger *slog.Logger
}

// maxRefusing bounds the Refuse calls in progress: past it, refused
// connections are closed without a word, so a flood of connections to a
// full server cannot pile up goroutines.
const maxRefusing = 64

// Admission admits the connections of one server, over all the listeners
// it serves. Its zero value is not usable; use New.
type Admission struct {
	cfg   Config
	epoch time.Time

	refusing chan struct{} // one token per Refuse in progress
	waiting  atomic.Int32  // accepts in awaitLocked
	wake     chan struct{} // cap 1: a call ended or a slot came free

	mu    sync.Mutex
	conns []*Conn // admitted and not yet closed; Conn.idx is the index

	addrMu sync.RWMutex // Lookup reads it on every call: apart from mu
	byAddr map[addrPair]*Conn

	reclaimed atomic.Int64
	refused   atomic.Int64
	expired   atomic.Int64
}

type addrPair struct{ local, remote netip.AddrPort }

// New returns an admission configured by cfg.
func New(cfg Config) *Admission {
	return &Admission{cfg: cfg, epoch: time.Now(), refusing: make(chan struct{}, maxRefusing), wake: make(chan struct{}, 1),
		byAddr: make(map[addrPair]*Conn)}
}

// Stats are counts of what an Admission did.
type Stats struct {
	Conns     int   // connections holding a slot now
	Reclaimed int64 // idle connections closed to admit a new one
	Refused   int64 // connections refused: the server was full of busy ones
	Expired   int64 // connections closed for no first request in time
}

// Stats returns what a has done so far.
func (a *Admission) Stats() Stats {
	a.mu.Lock()
	n := len(a.conns)
	a.mu.Unlock()
	return Stats{Conns: n, Reclaimed: a.reclaimed.Load(), Refused: a.refused.Load(), Expired: a.expired.Load()}
}

// now is the time since a's epoch, on the monotonic clock.
func (a *Admission) now() int64 { return int64(time.Since(a.epoch)) }

// Listener returns l with admission: its Accept returns only the
// connections admitted, as *Conn, and refuses the others itself.
func (a *Admission) Listener(l net.Listener) net.Listener { return &listener{Listener: l, a: a} }

type listener struct {
	net.Listener
	a *Admission
}

// Accept returns the next connection admitted. A connection refused is
// dealt with here and never returned.
func (l *listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if c := l.a.admit(nc); c != nil {
			return c, nil
		}
	}
}

// admit gives nc a slot, reclaiming an idle connection's if the server is
// full, and returns its Conn; or refuses nc and returns nil.
func (a *Admission) admit(nc net.Conn) *Conn {
	c := &Conn{Conn: nc, a: a}
	c.lastActive.Store(a.now())
	c.key, c.keyed = pairOf(nc.LocalAddr(), nc.RemoteAddr())
	var victim *Conn
	a.mu.Lock()
	if a.cfg.MaxConns > 0 && len(a.conns) >= a.cfg.MaxConns {
		victim = a.pickLocked()
		if victim == nil {
			victim = a.awaitLocked()
		}
		if victim == nil && len(a.conns) >= a.cfg.MaxConns {
			a.mu.Unlock()
			a.refuse(nc)
			return nil
		}
		if victim != nil {
			a.removeLocked(victim)
		}
	}
	if d := a.cfg.FirstRequest; d > 0 {
		c.timerMu.Lock()
		c.timer = time.AfterFunc(d, c.expire)
		c.timerMu.Unlock()
	}
	c.idx = len(a.conns)
	a.conns = append(a.conns, c)
	a.mu.Unlock()
	if c.keyed {
		a.addrMu.Lock()
		a.byAddr[c.key] = c
		a.addrMu.Unlock()
	}
	if victim != nil {
		a.reclaimed.Add(1)
		if l := a.cfg.Logger; l != nil {
			l.Debug("idle connection reclaimed for a new one", logs.Peer, victim.Conn.RemoteAddr().String())
		}
		victim.stopTimer()
		a.unkey(victim)
		victim.Conn.Close()
	}
	return c
}

// pickLocked returns the connection to reclaim: the oldest that has
// never sent a byte; else the one with no call in progress that has been
// idle the longest; else nil.
func (a *Admission) pickLocked() *Conn {
	var silent, idle *Conn
	var silentSince, idleSince int64
	for _, c := range a.conns {
		if c.calls.Load() > 0 {
			continue
		}
		t := c.lastActive.Load()
		if !c.sent.Load() {
			if silent == nil || t < silentSince {
				silent, silentSince = c, t
			}
		} else if idle == nil || t < idleSince {
			idle, idleSince = c, t
		}
	}
	if silent != nil {
		return silent
	}
	return idle
}

// refuseGrace is how long a new connection at a server full of busy
// connections waits for one of them to end its call before it is
// refused. A call's End comes a moment after its reply was written, so a
// client that opens a new connection as soon as it has its reply would
// otherwise be refused for the server's delay in noting the End.
const refuseGrace = 10 * time.Millisecond

// awaitLocked waits, with a.mu held on entry and on return, up to
// refuseGrace for a connection to end a call or close, and returns the
// connection to reclaim then, if any (nil, too, when a slot came free).
func (a *Admission) awaitLocked() *Conn {
	deadline := time.Now().Add(refuseGrace)
	a.waiting.Add(1)
	defer a.waiting.Add(-1)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		a.mu.Unlock()
		t := time.NewTimer(left)
		select {
		case <-a.wake:
		case <-t.C:
		}
		t.Stop()
		a.mu.Lock()
		if len(a.conns) < a.cfg.MaxConns {
			return nil
		}
		if c := a.pickLocked(); c != nil {
			return c
		}
	}
}

// woken tells an accept waiting in awaitLocked that a call ended or a
// slot came free.
func (a *Admission) woken() {
	if a.waiting.Load() > 0 {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
}

// removeLocked frees c's slot; it reports false if c held none.
func (a *Admission) removeLocked(c *Conn) bool {
	i := c.idx
	if i < 0 || i >= len(a.conns) || a.conns[i] != c {
		return false
	}
	last := len(a.conns) - 1
	a.conns[i] = a.conns[last]
	a.conns[i].idx = i
	a.conns[last] = nil
	a.conns = a.conns[:last]
	c.idx = -1
	return true
}

func (a *Admission) release(c *Conn) {
	a.mu.Lock()
	a.removeLocked(c)
	a.mu.Unlock()
	a.unkey(c)
	a.woken()
}

// unkey forgets c's addresses.
func (a *Admission) unkey(c *Conn) {
	if !c.keyed {
		return
	}
	a.addrMu.Lock()
	if a.byAddr[c.key] == c {
		delete(a.byAddr, c.key)
	}
	a.addrMu.Unlock()
}

// refuse tells nc that the server is full, if the transport says how and
// not too many refusals are in progress, and closes it.
func (a *Admission) refuse(nc net.Conn) {
	a.refused.Add(1)
	if l := a.cfg.Logger; l != nil {
		l.Debug("connection refused: the server is full of busy connections", logs.Peer, nc.RemoteAddr().String())
	}
	if a.cfg.Refuse == nil {
		nc.Close()
		return
	}
	select {
	case a.refusing <- struct{}{}:
	default:
		nc.Close()
		return
	}
	go func() {
		defer func() { <-a.refusing }()
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(RefuseTimeout))
		a.cfg.Refuse(nc)
	}()
}

// RefuseTimeout bounds the reads and writes of a Config.Refuse: its
// connection's deadline is set to this from the start.
const RefuseTimeout = time.Second

// Lookup returns the admitted connection with these local and remote
// addresses, or nil: for a transport whose hooks see the addresses of a
// connection but not the connection (gRPC's).
func (a *Admission) Lookup(local, remote net.Addr) *Conn {
	key, ok := pairOf(local, remote)
	if !ok {
		return nil
	}
	a.addrMu.RLock()
	c := a.byAddr[key]
	a.addrMu.RUnlock()
	return c
}

func pairOf(local, remote net.Addr) (addrPair, bool) {
	l, ok1 := local.(*net.TCPAddr)
	r, ok2 := remote.(*net.TCPAddr)
	if !ok1 || !ok2 {
		return addrPair{}, false
	}
	return addrPair{l.AddrPort(), r.AddrPort()}, true
}

// ConnState is an http.Server's ConnState hook that tells the Admission
// when an HTTP connection has a request in progress (http.StateActive:
// a request's header has arrived; over HTTP/2, a stream is open) and
// when it is idle again.
func ConnState(nc net.Conn, st http.ConnState) {
	c := Of(nc)
	if c == nil {
		return
	}
	switch st {
	case http.StateActive:
		if c.httpActive.CompareAndSwap(false, true) {
			c.Begin()
		}
	case http.StateIdle, http.StateClosed, http.StateHijacked:
		if c.httpActive.CompareAndSwap(true, false) {
			c.End()
		}
	}
}

// Of returns the admitted connection under nc (a *Conn, or a *tls.Conn
// over one), or nil if nc did not come from an Admission's listener.
func Of(nc net.Conn) *Conn {
	for range 4 {
		switch v := nc.(type) {
		case *Conn:
			return v
		case interface{ NetConn() net.Conn }: // *tls.Conn
			nc = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// Conn is an admitted connection. It is a net.Conn: closing it frees its
// slot.
type Conn struct {
	net.Conn
	a     *Admission
	idx   int // in a.conns, under a.mu; -1 once released
	key   addrPair
	keyed bool

	sent       atomic.Bool  // a byte has arrived
	begun      atomic.Bool  // the first request has arrived whole
	calls      atomic.Int32 // calls in progress
	lastActive atomic.Int64 // a.now() of the accept or of the last Begin or End
	httpActive atomic.Bool  // ConnState's view

	timerMu sync.Mutex
	timer   *time.Timer // FirstRequest's, until Begin

	closeOnce sync.Once
	closeErr  error
}

// Read reads from the connection, noting that the peer has sent a byte.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.sent.Load() {
		c.sent.Store(true)
	}
	return n, err
}

// Close closes the connection and frees its slot.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.stopTimer()
		c.a.release(c)
		c.closeErr = c.Conn.Close()
	})
	return c.closeErr
}

// CloseWrite half-closes the connection, where the connection under it
// can (a TCP connection can), so that a server can say goodbye and still
// drain what its peer sends.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// Begin says that a request has arrived whole and its call is starting:
// the connection is not idle until the matching End, and its first
// request is in. Begin and End do nothing on a nil *Conn (a connection
// that came from no Admission).
func (c *Conn) Begin() {
	if c == nil {
		return
	}
	if !c.begun.Load() {
		c.begun.Store(true)
		c.stopTimer()
	}
	c.calls.Add(1)
	c.lastActive.Store(c.a.now())
}

// End says that a call Begin announced has ended (its reply is written,
// or abandoned).
func (c *Conn) End() {
	if c == nil {
		return
	}
	c.lastActive.Store(c.a.now())
	c.calls.Add(-1)
	c.a.woken()
}

func (c *Conn) stopTimer() {
	c.timerMu.Lock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.timerMu.Unlock()
}

// expire closes a connection whose first request is late.
func (c *Conn) expire() {
	if c.begun.Load() {
		return
	}
	c.a.expired.Add(1)
	c.Close()
}
