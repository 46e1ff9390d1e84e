package overload

import (
	"os"
	"testing"

	"github.com/igbank/igbank/loadtest/server"
)

// TestMain lets the test binary act as a server process: bench.Run
// starts os.Executable in serve mode, and in a test that is this binary.
func TestMain(m *testing.M) {
	server.MaybeServe()
	os.Exit(m.Run())
}
