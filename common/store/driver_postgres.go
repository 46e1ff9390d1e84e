//go:build !igbank_nopostgres

package store

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/store/postgres"
)

// openPostgres opens the store of a postgres:// or postgresql:// spec.
func openPostgres(ctx context.Context, spec string, accounts int, o options) (bank.Ledger, io.Closer, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	q := u.Query()
	var opts []postgres.Option
	for _, name := range []string{"retention", "lease"} {
		if v := q.Get(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, nil, fmt.Errorf("store: %s=%q is not a positive duration", name, v)
			}
			if name == "retention" {
				opts = append(opts, postgres.WithRetention(d))
			} else {
				opts = append(opts, postgres.WithLease(d))
			}
			q.Del(name)
		}
	}
	u.RawQuery = q.Encode()
	if o.now != nil && o.replicaClock {
		opts = append(opts, postgres.WithClock(o.now))
	}
	if o.noFence {
		opts = append(opts, postgres.WithoutFence())
	}
	if o.claimHook != nil {
		opts = append(opts, postgres.WithClaimHook(o.claimHook))
	}
	if o.logger != nil {
		opts = append(opts, postgres.WithLogger(o.logger))
	}
	s, err := postgres.Open(ctx, u.String(), accounts, opts...)
	if err != nil {
		return nil, nil, err
	}
	return s, s, nil
}
