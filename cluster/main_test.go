package cluster_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/igbank/igbank/cluster"
)

// bins holds the server binaries built once for the package's tests.
var bins = map[string]string{}
var binDir string

func TestMain(m *testing.M) {
	dir, err := cluster.TempDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bin builds (once) the cmd/server of transport.
func bin(t *testing.T, transport string) string {
	t.Helper()
	if b, ok := bins[transport]; ok {
		return b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := cluster.Build(ctx, binDir, transport)
	if err != nil {
		t.Fatal(err)
	}
	bins[transport] = b
	return b
}
