// Package store opens the ledger a -store flag names. Every server and the
// load generator use it, so they all accept the same specs:
//
//	memory                       the in-memory ledger (the default)
//	sqlite:PATH                  an SQLite file, created if missing
//	sqlite:PATH?synchronous=full also fsync every commit (survives power loss)
//	postgres://USER@HOST/DB?...  a PostgreSQL (or CockroachDB) database,
//	                             shared by any number of replicas
//
// Every spec also takes retention=DURATION (how long idempotency keys are
// kept, default 24h); postgres takes lease=DURATION (see package postgres).
// Other postgres query parameters go to pgx, such as pool_max_conns=16.
//
// Both drivers are built in by default. The build tags igbank_nosqlite and
// igbank_nopostgres leave one out (and modernc.org/sqlite or pgx with it);
// such a binary rejects that kind of spec with an error that says so.
package store

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// Default is the spec used when none is given.
const Default = "memory"

// Usage is the help text of a -store flag.
const Usage = "ledger store: memory, sqlite:PATH, or postgres://USER@HOST:PORT/DB"

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// Open opens the store spec names, seeded with accounts 1 to accounts
// (accounts already in a durable store are kept as they are). Close the
// returned io.Closer when done with the ledger.
func Open(ctx context.Context, spec string, accounts int, opts ...Option) (bank.Ledger, io.Closer, error) {
	o := collect(opts)
	if accounts < 1 {
		return nil, nil, fmt.Errorf("store: %d accounts", accounts)
	}
	switch {
	case spec == "" || spec == "memory" || strings.HasPrefix(spec, "memory?"):
		_, q, _ := strings.Cut(spec, "?")
		p, err := params(q, "retention")
		if err != nil {
			return nil, nil, err
		}
		var mopts []ledger.MemoryOption
		if p.retention > 0 {
			mopts = append(mopts, ledger.WithRetention(p.retention))
		}
		if o.now != nil {
			mopts = append(mopts, ledger.WithClock(o.now))
		}
		return ledger.NewMemory(accounts, mopts...), nopCloser{}, nil
	case strings.HasPrefix(spec, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(spec, "sqlite:"), accounts, o)
	case strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://"):
		return openPostgres(ctx, spec, accounts, o)
	}
	return nil, nil, fmt.Errorf("store: unknown store %q (want memory, sqlite:PATH or postgres://...)", spec)
}

type parsed struct {
	values    url.Values
	retention time.Duration
}

func params(q string, allowed ...string) (parsed, error) {
	v, err := url.ParseQuery(q)
	if err != nil {
		return parsed{}, fmt.Errorf("store: %w", err)
	}
	p := parsed{values: v}
	for name := range v {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return parsed{}, fmt.Errorf("store: unknown parameter %q", name)
		}
	}
	if r := v.Get("retention"); r != "" {
		d, err := time.ParseDuration(r)
		if err != nil || d <= 0 {
			return parsed{}, fmt.Errorf("store: retention=%q is not a positive duration", r)
		}
		p.retention = d
	}
	return p, nil
}
