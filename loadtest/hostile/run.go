package hostile

import (
	"context"
	"fmt"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

// Memory is a server's memory at one moment.
type Memory struct {
	// LiveHeap is the heap the last garbage collection found live: what
	// the server holds, without the garbage of the attack's churn.
	LiveHeap   uint64 `json:"live_heap_bytes"`
	RSSBytes   uint64 `json:"rss_bytes"` // 0 where it cannot be read
	Goroutines uint64 `json:"goroutines"`
}

// Target is the server under attack.
type Target struct {
	// Variant is the server's transport; its client is the well-behaved
	// one, and the attacker captures its bytes.
	Variant transport.Variant
	// HTTP2 says the server speaks HTTP/2 (the HTTP/2 classes apply).
	HTTP2 bool
	Addr  string
	// Account and Month name a statement with at least a page of the most
	// transactions (bank.MaxPageSize) in it, for the attacks that ask for
	// large replies.
	Account bank.AccountNo
	Month   bank.Month
	// Memory reads the server's memory; settled asks for it after a
	// garbage collection.
	Memory func(settled bool) (Memory, error)
	// Requests are the transport's bytes (Capture); nil captures them
	// before the attack. Capture them before a series of attacks: one
	// attack can leave a server unable to serve the capture.
	Requests *Captured
}

// Options size an attack.
type Options struct {
	// Conns is the attack's connections (or workers); 0 is DefaultConns.
	Conns int
	// Duration is how long the attack lasts (default 10 s).
	Duration time.Duration
	// Settle bounds the wait, after the attack, for the server's memory
	// to come back within Slack of where it was (default 30 s).
	Settle time.Duration
	// Slack is how far above its memory before the attack a server counts
	// as recovered (default 8 MiB).
	Slack uint64
	// ProbeEvery is the interval between two calls of the well-behaved
	// client (default 250 ms); ProbeTimeout bounds each, dial included
	// (default 2 s).
	ProbeEvery, ProbeTimeout time.Duration
}

func (o Options) withDefaults(c Class) Options {
	if o.Conns <= 0 {
		o.Conns = DefaultConns(c)
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Settle <= 0 {
		o.Settle = 30 * time.Second
	}
	if o.Slack == 0 {
		o.Slack = 8 << 20
	}
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = 250 * time.Millisecond
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 2 * time.Second
	}
	return o
}

// Result is what one attack did to one server.
type Result struct {
	Transport string `json:"transport"`
	Class     Class  `json:"class"`
	Conns     int    `json:"conns"`
	// Probes and Answered count the well-behaved client's calls during
	// the attack, each from a new connection; FirstAnswer is the time
	// from the attack's start to the first answer (0: none), Worst the
	// slowest answered call.
	Probes      int           `json:"probes"`
	Answered    int           `json:"answered"`
	FirstAnswer time.Duration `json:"first_answer_ns"`
	Worst       time.Duration `json:"worst_ns"`
	// AnsweredAfter says the client was answered once the attack ended,
	// within three tries.
	AnsweredAfter bool `json:"answered_after"`
	// The server's memory before, at its peak during, and after the
	// attack; Recovered is the time from the attack's end until its heap
	// was back within Options.Slack of Before (-1: not within Settle).
	Before    Memory        `json:"before"`
	Peak      Memory        `json:"peak"`
	After     Memory        `json:"after"`
	Recovered time.Duration `json:"recovered_ns"`
	// What the attacker saw: connections opened, dials refused,
	// connections the server ended, GOAWAY ENHANCE_YOUR_CALM received.
	Opened  int64 `json:"opened"`
	Refused int64 `json:"refused"`
	Cut     int64 `json:"cut"`
	GoAway  int64 `json:"goaway"`
	// Err is why the attack could not run.
	Err string `json:"error,omitempty"`
}

// Run mounts class against t for o.Duration while a well-behaved client
// calls it, then waits for the server to settle.
func Run(ctx context.Context, t Target, class Class, o Options) Result {
	o = o.withDefaults(class)
	r := Result{Transport: t.Variant.Name, Class: class, Conns: o.Conns, Recovered: -1}
	a := &attacker{addr: t.Addr, class: class, conns: o.Conns, grpc: newGRPCRequests(t.Account, t.Month)}
	var err error
	if t.Requests != nil {
		a.reqs = *t.Requests
	} else if a.reqs, err = Capture(ctx, t.Variant, t.Addr, t.Account, t.Month); err != nil {
		r.Err = err.Error()
		return r
	}
	if r.Before, err = t.Memory(true); err != nil {
		r.Err = err.Error()
		return r
	}
	r.Peak = r.Before

	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	attacked := make(chan struct{})
	go func() {
		defer close(attacked)
		a.run(actx)
	}()
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sleep(actx, 50*time.Millisecond) {
			if m, err := t.Memory(false); err == nil {
				r.Peak.LiveHeap = max(r.Peak.LiveHeap, m.LiveHeap)
				r.Peak.RSSBytes = max(r.Peak.RSSBytes, m.RSSBytes)
				r.Peak.Goroutines = max(r.Peak.Goroutines, m.Goroutines)
			}
		}
	}()
	// The well-behaved client, until the attack ends.
	for sleep(actx, o.ProbeEvery) {
		r.Probes++
		if d, err := probe(actx, t, o.ProbeTimeout); err == nil {
			r.Answered++
			if r.FirstAnswer == 0 {
				r.FirstAnswer = time.Since(start)
			}
			r.Worst = max(r.Worst, d)
		}
	}
	<-attacked
	<-sampled
	end := time.Now()
	r.Opened, r.Refused, r.Cut, r.GoAway = a.t.opened.Load(), a.t.refused.Load(), a.t.cut.Load(), a.t.goAway.Load()

	// After: the client must be answered (within three tries, as a
	// client with retries would be), and the memory come back.
	for try := 0; try < 3 && !r.AnsweredAfter; try++ {
		if try > 0 && !sleep(ctx, o.ProbeEvery) {
			break
		}
		_, err = probe(ctx, t, 2*o.ProbeTimeout)
		r.AnsweredAfter = err == nil
	}
	for {
		m, err := t.Memory(true)
		if err == nil {
			r.After = m
			if m.LiveHeap <= r.Before.LiveHeap+o.Slack {
				r.Recovered = time.Since(end)
				break
			}
		}
		if time.Since(end) > o.Settle || !sleep(ctx, 250*time.Millisecond) {
			break
		}
	}
	return r
}

// probe is one call of the well-behaved client, from a new connection.
func probe(ctx context.Context, t Target, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	c, err := t.Variant.Dial(ctx, t.Addr, transport.ClientConfig{Conns: 1, DialTimeout: timeout})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if _, err := c.Balance(ctx, t.Account); err != nil {
		return 0, fmt.Errorf("probe: %w", err)
	}
	return time.Since(start), nil
}
