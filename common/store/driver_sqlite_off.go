//go:build igbank_nosqlite

package store

import (
	"context"
	"errors"
	"io"

	"github.com/igbank/igbank/common/bank"
)

// openSQLite fails: this binary was built without the SQLite driver.
func openSQLite(context.Context, string, int, options) (bank.Ledger, io.Closer, error) {
	return nil, nil, errors.New("-store sqlite: not built into this binary (built with -tags igbank_nosqlite)")
}
