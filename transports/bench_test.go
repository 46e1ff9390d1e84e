package transports_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// BenchmarkTransport runs the shared per-operation benchmarks
// (banktest.Benchmark: each operation, one caller and many) over every
// transport variant, BenchmarkTransport/<variant>/<op>/{Sequential,Parallel},
// against a real server on loopback in this process, so benchstat compares
// runs the Go way. Server and client share the process, so cpu-ns/op is
// both sides' CPU per call; "loadtest run" tells them apart and adds the
// TCP ping-pong reference.
func BenchmarkTransport(b *testing.B) {
	for _, v := range transports.Variants() {
		b.Run(v.Name, func(b *testing.B) {
			banktest.Benchmark(b, banktest.Transport(v.ServerFunc(transport.ServerConfig{}), v.DialFunc(transport.ClientConfig{})))
		})
	}
}
