package admit_test

import (
	"net"
	"testing"

	"github.com/igbank/igbank/common/admit"
)

// BenchmarkBeginEnd is what the admission adds to every call of a
// transport: one Begin and one End on the call's connection.
func BenchmarkBeginEnd(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	al := admit.New(admit.Config{MaxConns: 1024}).Listener(l)
	defer al.Close()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	sc, err := al.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer sc.Close()
	c := admit.Of(sc)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Begin()
			c.End()
		}
	})
}

// BenchmarkLookup is what gRPC's interceptor adds to find a call's
// connection by its addresses.
func BenchmarkLookup(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	a := admit.New(admit.Config{MaxConns: 1024})
	al := a.Listener(l)
	defer al.Close()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	sc, err := al.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer sc.Close()
	local, remote := sc.LocalAddr(), sc.RemoteAddr()
	b.ReportAllocs()
	for b.Loop() {
		if a.Lookup(local, remote) == nil {
			b.Fatal("not found")
		}
	}
}
