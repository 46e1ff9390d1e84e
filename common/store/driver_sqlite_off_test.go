//go:build igbank_nosqlite

package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/igbank/igbank/common/store"
)

// Built with -tags igbank_nosqlite (scripts/cross-build runs it): a sqlite
// spec fails with an error that names the tag, and creates no file.
func TestSQLiteNotBuilt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	_, _, err := store.Open(context.Background(), "sqlite:"+path, 10)
	const want = "-store sqlite: not built into this binary (built with -tags igbank_nosqlite)"
	if err == nil || err.Error() != want {
		t.Fatalf("Open(sqlite:...) = %v, want %q", err, want)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Open(sqlite:...) left %s behind: %v", path, err)
	}
	if _, _, err := store.Open(context.Background(), "memory", 10); err != nil {
		t.Errorf("Open(memory): %v", err)
	}
}
