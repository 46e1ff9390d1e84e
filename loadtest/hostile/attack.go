package hostile

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/protobuf/proto"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/hostile"
	"github.com/igbank/igbank/proto/igbankv1"
)

// Class is a class of attack.
type Class string

// The classes. The first six work on every transport; the last three
// speak HTTP/2 and are for the servers that do.
const (
	// Idle opens connections and sends nothing.
	Idle Class = "idle"
	// Churn opens and closes connections as fast as it can.
	Churn Class = "churn"
	// Unfinished sends every byte of a request but the last.
	Unfinished Class = "unfinished"
	// Drip sends a request one byte every 100 ms.
	Drip Class = "drip"
	// Garbage sends 4 KiB of random bytes and waits to be cut off.
	Garbage Class = "garbage"
	// SlowReader asks for statement pages until its writes stall, and
	// never reads a reply.
	SlowReader Class = "slow-reader"
	// RapidReset opens HTTP/2 streams and resets them without pause.
	RapidReset Class = "rapid-reset"
	// StalledWindow asks for 100 statement pages on HTTP/2 with a
	// receive window of 0 and never opens it.
	StalledWindow Class = "stalled-window"
	// UnfinishedStreams opens 100 HTTP/2 streams, each with a request
	// message 100 bytes short of its declared length.
	UnfinishedStreams Class = "unfinished-streams"
)

// Classes are the classes that apply to a transport; h2 adds those of
// HTTP/2. SlowReader is left to StalledWindow on HTTP/2, where a reply
// waits for a window rather than a socket.
func Classes(h2 bool) []Class {
	if h2 {
		return []Class{Idle, Churn, Unfinished, Drip, Garbage, RapidReset, StalledWindow, UnfinishedStreams}
	}
	return []Class{Idle, Churn, Unfinished, Drip, Garbage, SlowReader}
}

// DefaultConns is how many connections (or workers) a class uses by
// default: at full scale, the idle flood is the 1,500.
func DefaultConns(c Class) int {
	switch c {
	case Idle:
		return 1500
	case Churn:
		return 64
	case RapidReset:
		return 4
	case StalledWindow, UnfinishedStreams:
		return 10
	default:
		return 100
	}
}

// reopen is how long an attack that holds connections waits before it
// reopens one that the server cut.
const reopen = 100 * time.Millisecond

// tally counts what the attacker saw.
type tally struct {
	opened  atomic.Int64 // connections opened
	refused atomic.Int64 // dials that failed
	cut     atomic.Int64 // connections the server ended before the attack did
	goAway  atomic.Int64 // GOAWAY frames received (HTTP/2)
}

// attacker runs one class against one server.
type attacker struct {
	addr  string
	class Class
	conns int
	reqs  Captured
	grpc  grpcRequests
	t     tally
}

// grpcRequests are the gRPC-framed requests of the HTTP/2 attacks.
type grpcRequests struct {
	path      string // the statement method
	statement []byte // a gRPC message: a statement page of the most rows
	partial   []byte // a gRPC message prefix declaring 4 KiB, 100 bytes short
}

func newGRPCRequests(acc bank.AccountNo, month bank.Month) grpcRequests {
	msg, _ := proto.Marshal(&igbankv1.StatementRequest{Account: string(acc), Month: string(month), PageSize: bank.MaxPageSize})
	declared := make([]byte, 4<<10)
	return grpcRequests{
		path:      "/" + igbankv1.BankService_ServiceDesc.ServiceName + "/Statement",
		statement: hostile.GRPCMessage(msg),
		partial:   hostile.GRPCMessage(declared)[:len(declared)+5-100],
	}
}

// run attacks until ctx ends, and returns when every connection it opened
// is closed.
func (a *attacker) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range a.conns {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for ctx.Err() == nil {
				switch {
				case !a.once(ctx, rng):
					// The server refused the connection: do not spin.
					sleep(ctx, 10*time.Millisecond)
				case a.class != Churn && a.class != Garbage:
					// A connection the server cut is reopened after a
					// pause: these attacks hold connections; opening
					// them as fast as possible is Churn's.
					sleep(ctx, reopen)
				}
			}
		})
	}
	wg.Wait()
}

// once makes one connection of the attack and holds it as the class says,
// until the server ends it or ctx ends. It reports whether it connected.
func (a *attacker) once(ctx context.Context, rng *rand.Rand) bool {
	switch a.class {
	case RapidReset, StalledWindow, UnfinishedStreams:
		return a.h2(ctx)
	}
	c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", a.addr)
	if err != nil {
		a.t.refused.Add(1)
		return false
	}
	a.t.opened.Add(1)
	defer c.Close()
	switch a.class {
	case Churn:
		return true
	case Idle:
		a.hold(ctx, c, nil)
	case Unfinished:
		first := a.reqs.Balance.First
		a.hold(ctx, c, func() { _, _ = c.Write(first[:len(first)-1]) })
	case Drip:
		a.hold(ctx, c, func() {
			for _, b := range a.reqs.Balance.First {
				if !sleep(ctx, 100*time.Millisecond) {
					return
				}
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
			}
		})
	case Garbage:
		junk := make([]byte, 4<<10)
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		a.hold(ctx, c, func() { _, _ = c.Write(junk) })
	case SlowReader:
		a.slowReader(ctx, c)
	}
	return true
}

// hold runs send beside a reader that drops what the server sends, until
// the server ends the connection (counted as cut) or ctx ends.
func (a *attacker) hold(ctx context.Context, c net.Conn, send func()) {
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		_, _ = io.Copy(io.Discard, c)
	}()
	if send != nil {
		go send()
	}
	select {
	case <-ended:
		if ctx.Err() == nil {
			a.t.cut.Add(1)
		}
	case <-ctx.Done():
		c.Close()
		<-ended
	}
}

// slowReader asks for statement pages and never reads the replies. It
// goes on asking until its own writes stall (the server has stopped
// reading requests because it is stuck writing replies nobody reads, and
// the kernel's buffers are full both ways), with a small receive buffer
// so that this comes soon. When the attack ends it drains the connection
// for a second to learn whether the server had ended it (an end or a
// reset) or still held it (a timeout).
func (a *attacker) slowReader(ctx context.Context, c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	req := a.reqs.Statement.First
	for range 10000 {
		if ctx.Err() != nil {
			break
		}
		_ = c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := c.Write(req); err != nil {
			break
		}
		req = a.reqs.Statement.Next
	}
	<-ctx.Done()
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		a.t.cut.Add(1)
	}
}

// h2 makes one HTTP/2 connection of the attack.
func (a *attacker) h2(ctx context.Context) bool {
	var settings []http2.Setting
	if a.class == StalledWindow {
		settings = append(settings, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	}
	p, err := hostile.DialH2(a.addr, nil, settings...)
	if err != nil {
		a.t.refused.Add(1)
		return false
	}
	a.t.opened.Add(1)
	defer p.Close()
	stop := context.AfterFunc(ctx, func() { p.Close() })
	defer stop()
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		n := 0
		if a.class != RapidReset {
			n = 100 // the server may release the streams instead
		}
		if code, sent, err := p.Released(time.Hour, n); err == nil && ctx.Err() == nil {
			a.t.cut.Add(1)
			if sent && code == http2.ErrCodeEnhanceYourCalm {
				a.t.goAway.Add(1)
			}
		}
	}()
	switch a.class {
	case RapidReset:
		for id := uint32(1); id < 1<<30 && ctx.Err() == nil; id += 2 {
			if p.Reset(id, a.grpc.path) != nil {
				break
			}
		}
	case StalledWindow:
		for id := uint32(1); id < 200; id += 2 {
			if p.Call(id, a.grpc.path, a.grpc.statement, true) != nil {
				break
			}
		}
	case UnfinishedStreams:
		for id := uint32(1); id < 200; id += 2 {
			if p.Call(id, a.grpc.path, a.grpc.partial, false) != nil {
				break
			}
		}
	}
	<-ended
	return true
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
