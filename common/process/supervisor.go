package process

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Supervisor keeps one server process running: it starts it, and starts
// it again each time it ends, until Stop. Each start gets its number, so
// that the start function can give the first ones a fault and the later
// ones none, and a restarted server can take its predecessor's address and
// store.
type Supervisor struct {
	start     func(ctx context.Context, n int) (*Proc, error)
	maxStarts int

	mu       sync.Mutex
	cur      *Proc
	curN     int  // cur's start number
	curEnded bool // cur's end is in ends
	starts   int
	ends     []End
	err      error // of a restart that failed
	stop     chan struct{}
	done     chan struct{}
}

// End is how one supervised process ended.
type End struct {
	N      int  // its start's number, from 1
	Killed bool // it was killed (Proc.Kill, KillSelf, SIGKILL)
	Err    error
	Stderr string
}

// String describes e for an error message.
func (e End) String() string {
	return fmt.Sprintf("server %d ended (%v): %s", e.N, e.Err, e.Stderr)
}

// restartTries and restartPause bound the attempts to start a process
// again: a restarted server may race the kernel releasing its address.
const (
	restartTries = 20
	restartPause = 50 * time.Millisecond
)

// Supervise starts process 1 with start and returns once it has started
// (start decides what ready means, see Start); from then on it starts the
// next one each time the current one ends, up to maxStarts in all (0: no
// limit), until Stop. A start that fails is tried again, up to 20 times
// 50 ms apart; ctx bounds every start.
func Supervise(ctx context.Context, start func(ctx context.Context, n int) (*Proc, error), maxStarts int) (*Supervisor, error) {
	s := &Supervisor{start: start, maxStarts: maxStarts, stop: make(chan struct{}), done: make(chan struct{})}
	p, err := s.startNext(ctx)
	if err != nil {
		return nil, err
	}
	s.cur, s.curN = p, 1
	go s.supervise(ctx)
	return s, nil
}

func (s *Supervisor) startNext(ctx context.Context) (*Proc, error) {
	s.mu.Lock()
	s.starts++
	n := s.starts
	s.mu.Unlock()
	var err error
	for range restartTries {
		var p *Proc
		if p, err = s.start(ctx, n); err == nil {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(err, ctx.Err())
		case <-time.After(restartPause):
		}
	}
	return nil, fmt.Errorf("starting server %d: %w", n, err)
}

func (s *Supervisor) supervise(ctx context.Context) {
	defer close(s.done)
	for {
		s.mu.Lock()
		p := s.cur
		s.mu.Unlock()
		select {
		case <-s.stop:
			return
		case <-p.Done():
		}
		s.mu.Lock()
		s.recordCur()
		n := s.curN
		s.mu.Unlock()
		if s.maxStarts > 0 && n >= s.maxStarts {
			return
		}
		next, err := s.startNext(ctx)
		s.mu.Lock()
		if err != nil {
			s.err = err
		} else {
			s.cur, s.curN, s.curEnded = next, n+1, false
		}
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// recordCur records the end of the current process, which has ended, once.
// The caller holds mu.
func (s *Supervisor) recordCur() {
	if s.curEnded {
		return
	}
	s.curEnded = true
	p := s.cur
	s.ends = append(s.ends, End{N: s.curN, Killed: Killed(p.err), Err: p.err, Stderr: p.Stderr()})
}

// Current returns the process started last.
func (s *Supervisor) Current() *Proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Stop stops restarting and returns what it saw: how many processes it
// started, how each that ended did, and a failed restart's error. The
// current process goes on running unless it had ended (then its end is
// in the list); Kill it, or let it be.
func (s *Supervisor) Stop() (starts int, ends []End, err error) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.Exited() {
		s.recordCur()
	}
	return s.starts, append([]End(nil), s.ends...), s.err
}
