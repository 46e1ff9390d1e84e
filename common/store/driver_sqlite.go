//go:build !igbank_nosqlite

package store

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/store/sqlite"
)

// openSQLite opens the store of a spec "sqlite:"+rest.
func openSQLite(ctx context.Context, rest string, accounts int, o options) (bank.Ledger, io.Closer, error) {
	path, q, _ := strings.Cut(rest, "?")
	p, err := params(q, "retention", "synchronous")
	if err != nil {
		return nil, nil, err
	}
	var opts []sqlite.Option
	if p.retention > 0 {
		opts = append(opts, sqlite.WithRetention(p.retention))
	}
	switch strings.ToLower(p.values.Get("synchronous")) {
	case "", "normal":
	case "full":
		opts = append(opts, sqlite.WithSynchronousFull())
	default:
		return nil, nil, fmt.Errorf("store: synchronous=%q: want normal or full", p.values.Get("synchronous"))
	}
	if o.now != nil {
		opts = append(opts, sqlite.WithClock(o.now))
	}
	s, err := sqlite.Open(ctx, path, accounts, opts...)
	if err != nil {
		return nil, nil, err
	}
	return s, s, nil
}
