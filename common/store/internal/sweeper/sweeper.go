// Package sweeper runs a store's periodic deletion of expired keys.
package sweeper

import (
	"context"
	"time"
)

// Sweeper calls a sweep function every interval until Stop.
type Sweeper struct {
	stop, done chan struct{}
}

// Start calls sweep every interval (each call bounded by interval) in its
// own goroutine. A failed sweep is simply tried again at the next tick. An
// interval of 0 or less starts nothing; Stop is then a no-op.
func Start(interval time.Duration, sweep func(context.Context) (int64, error)) *Sweeper {
	s := &Sweeper{}
	if interval <= 0 {
		return s
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), interval)
				sweep(ctx)
				cancel()
			}
		}
	}()
	return s
}

// Stop ends the loop and waits for a sweep in progress.
func (s *Sweeper) Stop() {
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
}
