package store

import (
	"context"
	"log/slog"
	"time"
)

// Option configures what Open opens, beyond its spec.
type Option func(*options)

type options struct {
	now          func() time.Time
	replicaClock bool
	noFence      bool
	claimHook    func(ctx context.Context, key string, token int64)
	logger       *slog.Logger
}

func collect(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithClock gives the server's wall clock (-clock-offset and -clock-drift
// make it a wrong one, package clock). The memory and SQLite ledgers date
// transactions and expire keys by it. PostgreSQL, shared by replicas,
// keeps deciding by the database's clock unless WithReplicaClock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithReplicaClock makes a PostgreSQL store date transactions and expire
// keys by the WithClock clock, each replica by its own, instead of by the
// database's: the unreliable-clocks experiment's bug (cluster clocks).
func WithReplicaClock() Option { return func(o *options) { o.replicaClock = true } }

// WithoutFence turns PostgreSQL's fencing-token check off
// (postgres.WithoutFence): for the fencing experiment only.
func WithoutFence() Option { return func(o *options) { o.noFence = true } }

// WithClaimHook is postgres.WithClaimHook: hook runs after a PostgreSQL
// store claimed a key, before it applies the deposit.
func WithClaimHook(hook func(ctx context.Context, key string, token int64)) Option {
	return func(o *options) { o.claimHook = hook }
}

// WithLogger gives a PostgreSQL store the server's logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }
