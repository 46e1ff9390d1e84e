// Package h2guard polices the HTTP/2 connections of a server from beneath
// it: it watches the frames that go in and out of each connection and
// closes a connection whose peer abuses the protocol in ways the HTTP/2
// stacks here do not bound by themselves.
//
//   - Rapid reset: a peer that resets streams faster than Limits.ResetRate
//     (with a burst of Limits.ResetBurst) is sent GOAWAY with
//     ENHANCE_YOUR_CALM and cut off (CVE-2023-44487).
//   - Unfinished requests: a request whose last byte has not arrived
//     Limits.RequestTimeout after its headers, and which the server has not
//     begun to answer, ends the connection. gRPC has no such timeout of its
//     own, and each unfinished request pins up to a stream window of
//     memory.
//   - Request bytes: the request bodies that have begun to arrive but not
//     ended may hold at most Limits.RequestBytes on one connection, so what
//     a connection can pin does not grow with its streams' windows.
//   - Stalled responses: a response the server cannot send because the
//     peer keeps its flow-control window closed (below StallWindow) for
//     Limits.StallTimeout ends the connection, releasing the replies it
//     pinned. A peer that opens its window by a few bytes at a time does not
//     reset the clock.
//
// The guard sits between the listener and the HTTP/2 server, on a
// plaintext byte stream (h2c, or the plaintext side of a TLS connection).
// The gRPC server runs beneath it. The Connect server does not: cutting
// connections off beneath net/http's HTTP/2 server left its stream state
// live after a reset flood (connect/README.md), and net/http has defences
// of its own.
// A connection that does not begin with the HTTP/2 client preface (an
// HTTP/1.1 connection on a server that speaks both) passes through
// untouched. It parses only frame headers and the few small payloads that
// carry flow-control state (SETTINGS, WINDOW_UPDATE); it never buffers a
// frame.
package h2guard

import (
	"net"
	"sync"
	"time"
)

// Limits are what a guarded connection may do. A zero field turns its
// check off.
type Limits struct {
	// ResetRate is how many streams per second a peer may reset, on
	// average (RST_STREAM frames it sends); ResetBurst is how many it may
	// reset at once.
	ResetRate  float64
	ResetBurst int
	// RequestTimeout bounds the time from a request's headers to its
	// end, while the server has not begun to answer it.
	RequestTimeout time.Duration
	// StallTimeout bounds the time a response may wait for the peer to
	// open its flow-control window.
	StallTimeout time.Duration
	// RequestBytes bounds the bytes of the request bodies on one
	// connection that have begun to arrive and not ended (DATA frames,
	// padding included).
	RequestBytes int64
	// MaxStreams bounds the streams the guard tracks on one connection
	// (open in either direction); a peer that exceeds it is cut off. It
	// should be well above the server's SETTINGS_MAX_CONCURRENT_STREAMS.
	// Zero means 4,096.
	MaxStreams int
	// OnViolation, if set, is called once per connection the guard cuts
	// off, with the reason (for logs and metrics).
	OnViolation func(c net.Conn, v Violation)
}

// StallWindow is the flow-control window, in bytes, that a peer must open
// for a stalled response to count as moving again.
const StallWindow = 16 << 10

// Violation is why the guard ended a connection.
type Violation string

// The violations.
const (
	RapidReset         Violation = "rapid_reset"
	UnfinishedRequest  Violation = "unfinished_request"
	RequestBytes       Violation = "request_bytes"
	StalledResponse    Violation = "stalled_response"
	TooManyStreams     Violation = "too_many_streams"
	defaultMaxStreams            = 4096
	initialWindow                = 65535 // RFC 9113, 6.9.2
	errEnhanceYourCalm           = 0xb
)

// Listener returns a listener whose connections are guarded.
func Listener(l net.Listener, lim Limits) net.Listener {
	return &listener{Listener: l, lim: lim}
}

type listener struct {
	net.Listener
	lim Limits
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return Conn(c, l.lim), nil
}

// Conn returns c guarded: reads and writes go through to c, and the
// frames they carry are watched.
func Conn(c net.Conn, lim Limits) net.Conn {
	if lim.MaxStreams <= 0 {
		lim.MaxStreams = defaultMaxStreams
	}
	g := &conn{Conn: c, lim: lim, streams: make(map[uint32]*stream)}
	g.in = parser{preface: len(clientPreface), onFrame: g.inbound, onPayload: g.inboundPayload}
	g.out = parser{onFrame: g.outbound}
	g.sendWindow = initialWindow
	g.initialWindow = initialWindow
	g.resetTokens = float64(lim.ResetBurst)
	return g
}

// stream is what the guard knows of one stream.
type stream struct {
	requestSince time.Time // request headers seen, end not yet, not answered
	requestOpen  bool      // request headers seen, end not yet
	pending      int64     // bytes of its request body so far, while open
	answered     bool      // the server sent response headers
	responseOpen bool      // ... and has not ended its response
	window       int64     // the peer's window for this stream
	stallSince   time.Time // window closed since (zero: open)
}

type conn struct {
	net.Conn
	lim Limits

	wmu sync.Mutex // serialises writes (the server's and the guard's GOAWAY)

	mu            sync.Mutex
	in            parser // frames from the peer (Read)
	out           parser // frames to the peer (Write)
	passthrough   bool   // not HTTP/2: nothing to watch
	dead          bool
	streams       map[uint32]*stream
	lastStream    uint32 // the highest stream the peer opened
	sendWindow    int64  // the peer's connection-level window
	initialWindow int64  // the peer's SETTINGS_INITIAL_WINDOW_SIZE
	connStall     time.Time
	pending       int64 // the streams' pending request bytes
	resetTokens   float64
	resetAt       time.Time
	timer         *time.Timer // armed while something is being timed
}

// NetConn returns the connection beneath the guard, as tls.Conn's does,
// for the layers below it that know their connections by identity
// (common/admit).
func (c *conn) NetConn() net.Conn { return c.Conn }

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		var v Violation
		if !c.passthrough && !c.dead {
			v = c.in.feed(p[:n])
			if c.in.bad {
				c.passthrough = true
			}
		}
		c.mu.Unlock()
		if v != "" {
			c.kill(v)
		}
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.mu.Lock()
		if !c.passthrough && !c.dead {
			c.out.feed(p[:n])
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *conn) Close() error {
	c.mu.Lock()
	c.dead = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// kill ends the connection for v: GOAWAY if a frame can be written now,
// then close. The server sees its reads fail and releases the
// connection's streams.
func (c *conn) kill(v Violation) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	if c.timer != nil {
		c.timer.Stop()
	}
	last := c.lastStream
	c.mu.Unlock()
	if c.lockWriter(100 * time.Millisecond) {
		// Only between two of the server's frames, and without waiting
		// long for a peer that does not read.
		if c.out.atBoundary() {
			_ = c.Conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = c.Conn.Write(goAway(last, errEnhanceYourCalm))
		}
		c.wmu.Unlock()
	}
	_ = c.Conn.Close()
	if c.lim.OnViolation != nil {
		c.lim.OnViolation(c, v)
	}
}

func goAway(last uint32, code uint32) []byte {
	return []byte{
		0, 0, 8, 0x7, 0, 0, 0, 0, 0,
		byte(last >> 24 & 0x7f), byte(last >> 16), byte(last >> 8), byte(last),
		byte(code >> 24), byte(code >> 16), byte(code >> 8), byte(code),
	}
}

// Frame types and flags (RFC 9113, 6).
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	frameWindowUpdate = 0x8

	flagEndStream = 0x1
	flagAck       = 0x1

	settingInitialWindowSize = 0x4
)

// inbound handles a frame from the peer: its header when payload is nil
// (called once per frame, when its header is complete), and then the
// bytes of the payloads it asked for. It runs with c.mu held.
func (c *conn) inbound(f *frame) Violation {
	now := time.Now()
	switch f.typ {
	case frameHeaders:
		if f.id == 0 {
			return ""
		}
		s := c.streams[f.id]
		if s == nil {
			if f.id%2 == 0 || f.id <= c.lastStream {
				return "" // trailers of a stream already gone, or the server will refuse it
			}
			c.lastStream = f.id
			if len(c.streams) >= c.lim.MaxStreams {
				return TooManyStreams
			}
			s = &stream{window: c.initialWindow}
			c.streams[f.id] = s
		}
		if f.flags&flagEndStream != 0 {
			c.endRequest(f.id, s)
		} else if !s.requestOpen {
			s.requestOpen = true
			if !s.answered {
				s.requestSince = now
				c.arm(c.lim.RequestTimeout)
			}
		}
	case frameData:
		s := c.streams[f.id]
		if s == nil || !s.requestOpen {
			return ""
		}
		if f.flags&flagEndStream != 0 {
			c.endRequest(f.id, s)
			return ""
		}
		s.pending += int64(f.length)
		c.pending += int64(f.length)
		if c.lim.RequestBytes > 0 && c.pending > c.lim.RequestBytes {
			return RequestBytes
		}
	case frameRSTStream:
		c.drop(f.id)
		if c.lim.ResetRate > 0 {
			if !c.resetAt.IsZero() {
				c.resetTokens = min(float64(c.lim.ResetBurst), c.resetTokens+now.Sub(c.resetAt).Seconds()*c.lim.ResetRate)
			}
			c.resetAt = now
			c.resetTokens--
			if c.resetTokens < 0 {
				return RapidReset
			}
		}
	case frameSettings:
		if f.flags&flagAck == 0 && f.id == 0 {
			f.want = 6 // one setting at a time
		}
	case frameWindowUpdate:
		f.want = 4
	}
	return ""
}

// inboundPayload handles the payload bytes a frame asked for.
func (c *conn) inboundPayload(f *frame, b []byte) {
	switch f.typ {
	case frameSettings:
		if len(b) == 6 && uint16(b[0])<<8|uint16(b[1]) == settingInitialWindowSize {
			v := int64(uint32(b[2])<<24 | uint32(b[3])<<16 | uint32(b[4])<<8 | uint32(b[5]))
			delta := v - c.initialWindow
			c.initialWindow = v
			for _, s := range c.streams {
				c.openStream(s, s.window+delta)
			}
		}
	case frameWindowUpdate:
		inc := int64(uint32(b[0])&0x7f<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		if f.id == 0 {
			c.sendWindow += inc
			if c.sendWindow >= StallWindow {
				c.connStall = time.Time{}
			}
		} else if s := c.streams[f.id]; s != nil {
			c.openStream(s, s.window+inc)
		}
	}
}

// openStream sets a stream's window after the peer changed it.
func (c *conn) openStream(s *stream, w int64) {
	s.window = w
	if w >= StallWindow {
		s.stallSince = time.Time{}
	} else if w <= 0 && s.responseOpen && s.stallSince.IsZero() {
		s.stallSince = time.Now()
		c.arm(c.lim.StallTimeout)
	}
}

// outbound handles a frame the server writes.
func (c *conn) outbound(f *frame) Violation {
	s := c.streams[f.id]
	if f.id == 0 || s == nil {
		return ""
	}
	end := f.flags&flagEndStream != 0
	switch f.typ {
	case frameHeaders:
		s.answered = true
		s.requestSince = time.Time{}
		s.responseOpen = !end
	case frameData:
		s.window -= int64(f.length)
		c.sendWindow -= int64(f.length)
		s.responseOpen = !end
	case frameRSTStream:
		c.drop(f.id)
		return ""
	default:
		return ""
	}
	if end {
		s.responseOpen = false
		c.forget(f.id, s)
		return ""
	}
	now := time.Now()
	if s.window <= 0 && s.stallSince.IsZero() {
		s.stallSince = now
		c.arm(c.lim.StallTimeout)
	}
	if c.sendWindow <= 0 && c.connStall.IsZero() {
		c.connStall = now
		c.arm(c.lim.StallTimeout)
	}
	return ""
}

// endRequest notes that the peer ended its request on a stream.
func (c *conn) endRequest(id uint32, s *stream) {
	s.requestOpen = false
	s.requestSince = time.Time{}
	c.pending -= s.pending
	s.pending = 0
	c.forget(id, s)
}

// forget drops a stream that has ended in the directions the guard
// watches.
func (c *conn) forget(id uint32, s *stream) {
	if !s.requestOpen && !s.responseOpen && s.answered {
		delete(c.streams, id)
	}
}

// drop forgets a stream that either side reset.
func (c *conn) drop(id uint32) {
	if s := c.streams[id]; s != nil {
		c.pending -= s.pending
		delete(c.streams, id)
	}
}

// arm makes sure the timer will check the connection within d.
func (c *conn) arm(d time.Duration) {
	if d <= 0 || c.timer != nil {
		return
	}
	c.timer = time.AfterFunc(d, c.check)
}

// check runs when the timer fires: it ends the connection if a request
// or a response has waited too long, and otherwise sets the timer for the
// next moment one could.
func (c *conn) check() {
	c.mu.Lock()
	c.timer = nil
	if c.dead {
		c.mu.Unlock()
		return
	}
	now := time.Now()
	var v Violation
	next := time.Duration(-1)
	due := func(since time.Time, limit time.Duration, why Violation) {
		if since.IsZero() || limit <= 0 || v != "" {
			return
		}
		left := limit - now.Sub(since)
		if left <= 0 {
			v = why
			return
		}
		if next < 0 || left < next {
			next = left
		}
	}
	anyOpen := false
	for _, s := range c.streams {
		if !s.answered {
			due(s.requestSince, c.lim.RequestTimeout, UnfinishedRequest)
		}
		if s.responseOpen {
			anyOpen = true
			if s.window <= 0 || !s.stallSince.IsZero() {
				due(s.stallSince, c.lim.StallTimeout, StalledResponse)
			}
		}
	}
	if anyOpen {
		due(c.connStall, c.lim.StallTimeout, StalledResponse)
	}
	if v == "" && next >= 0 {
		c.timer = time.AfterFunc(next+time.Millisecond, c.check)
	}
	c.mu.Unlock()
	if v != "" {
		c.kill(v)
	}
}

// lockWriter takes the write lock within d, and reports whether it did:
// a server busy writing (to a peer that reads, on a loaded machine) lets
// the GOAWAY through a moment later, while one blocked on a peer that
// does not read is not waited for.
func (c *conn) lockWriter(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !c.wmu.TryLock() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}
