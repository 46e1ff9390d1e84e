//go:build igbank_nopostgres

package store_test

import (
	"context"
	"testing"

	"github.com/igbank/igbank/common/store"
)

// Built with -tags igbank_nopostgres (scripts/cross-build runs it): a
// postgres spec fails with an error that names the tag.
func TestPostgresNotBuilt(t *testing.T) {
	const want = "-store postgres: not built into this binary (built with -tags igbank_nopostgres)"
	for _, spec := range []string{"postgres://igbank@127.0.0.1:1/igbank", "postgresql://igbank@127.0.0.1:1/igbank"} {
		if _, _, err := store.Open(context.Background(), spec, 10); err == nil || err.Error() != want {
			t.Errorf("Open(%q) = %v, want %q", spec, err, want)
		}
	}
	if _, _, err := store.Open(context.Background(), "memory", 10); err != nil {
		t.Errorf("Open(memory): %v", err)
	}
}
