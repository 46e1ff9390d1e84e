package netrpcbank_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	netrpcbank "github.com/igbank/igbank/netrpc"
)

// BenchmarkNetRPC measures each operation through a Client against a real
// server on loopback, in this process:
//
//	go test -run '^$' -bench . -benchmem ./netrpc/
func BenchmarkNetRPC(b *testing.B) {
	banktest.Benchmark(b, banktest.Transport(newServer(), dial()))
}

// BenchmarkNetRPCPool4 is the same with four connections in the client's
// pool instead of one.
func BenchmarkNetRPCPool4(b *testing.B) {
	banktest.Benchmark(b, banktest.Transport(newServer(), dial(netrpcbank.WithConns(4))))
}
