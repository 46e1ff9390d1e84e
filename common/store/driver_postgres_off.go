//go:build igbank_nopostgres

package store

import (
	"context"
	"errors"
	"io"

	"github.com/igbank/igbank/common/bank"
)

// openPostgres fails: this binary was built without the PostgreSQL driver.
func openPostgres(context.Context, string, int, options) (bank.Ledger, io.Closer, error) {
	return nil, nil, errors.New("-store postgres: not built into this binary (built with -tags igbank_nopostgres)")
}
