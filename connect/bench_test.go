package connectbank_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	connectbank "github.com/igbank/igbank/connect"
)

// BenchmarkConnect runs the shared per-operation benchmarks (sequential and
// parallel, each operation) for each protocol of the Connect client against
// the Connect server.
func BenchmarkConnect(b *testing.B) {
	for _, p := range connectbank.Protocols {
		b.Run(p.String(), func(b *testing.B) {
			banktest.Benchmark(b, banktest.Transport(newServer, dialer(connectbank.WithProtocol(p))))
		})
	}
}
