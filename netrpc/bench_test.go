package netrpcbank_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/tlsconf"
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

// BenchmarkNetRPCTLS is BenchmarkNetRPC over mutual TLS, as the teller.
func BenchmarkNetRPCTLS(b *testing.B) {
	p := banktest.NewPKI(b)
	banktest.Benchmark(b, banktest.Transport(newServer(netrpcbank.WithTLS(p.ServerTLS(b, true), tlsconf.Limits{})),
		dial(netrpcbank.WithClientTLS(p.ClientTLS(b, "teller")))))
}
