package transports_test

import (
	"context"
	"fmt"
	"testing"

	"connectrpc.com/connect"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	connectbank "github.com/igbank/igbank/connect"
	grpcbank "github.com/igbank/igbank/grpc"
	"google.golang.org/grpc"
)

// benchTransports are the pairs BenchmarkCallers compares: grpc-go on both
// sides, and connect-go on both sides in each protocol.
var benchTransports = []struct {
	name      string
	newServer transport.NewServerFunc
	dial      transport.DialFunc
}{
	{"grpc-go", newGRPCServer, grpcDialer()},
	// grpc-go with its library defaults for the settings grpcbank tunes.
	{"grpc-go-untuned", func(b bank.Bank) transport.Server {
		return grpcbank.NewServer(b, grpcbank.WithGRPCServerOptions(grpc.NumStreamWorkers(0), grpc.SharedWriteBuffer(false),
			grpc.InitialWindowSize(0), grpc.InitialConnWindowSize(0)))
	}, grpcDialer(grpcbank.WithDialOptions(grpc.WithSharedWriteBuffer(false),
		grpc.WithInitialWindowSize(0), grpc.WithInitialConnWindowSize(0)))},
	// connect-go with its defaults for what connectbank tunes: gzip for
	// every message the peer accepts it for.
	{"connect-grpc-gzipall", func(b bank.Bank) transport.Server {
		return connectbank.NewServer(b, connectbank.WithHandlerOptions(connect.WithCompressMinBytes(0)))
	}, connectDialer(connectbank.WithProtocol(connectbank.GRPC), connectbank.WithClientOptions(connect.WithCompressMinBytes(0), connect.WithSendGzip()))},
	{"connect", newConnectServer, connectDialer(connectbank.WithProtocol(connectbank.Connect))},
	{"connect-grpc", newConnectServer, connectDialer(connectbank.WithProtocol(connectbank.GRPC))},
	{"connect-grpcweb", newConnectServer, connectDialer(connectbank.WithProtocol(connectbank.GRPCWeb))},
	// The two halves apart: which side costs what.
	{"grpc-go-client+connect-server", newConnectServer, grpcDialer()},
	{"connect-grpc-client+grpc-go-server", newGRPCServer, connectDialer(connectbank.WithProtocol(connectbank.GRPC))},
	{"connect-http1-64conns", newConnectServer, connectDialer(connectbank.WithProtocol(connectbank.Connect), connectbank.WithHTTP1(64))},
	{"connect-4conns", newConnectServer, connectDialer(connectbank.WithProtocol(connectbank.Connect), connectbank.WithConns(4))},
	{"connect-grpc-2conns", newConnectServer, connectDialer(connectbank.WithProtocol(connectbank.GRPC), connectbank.WithConns(2))},
	{"connect-grpc-4conns", newConnectServer, connectDialer(connectbank.WithProtocol(connectbank.GRPC), connectbank.WithConns(4))},
}

// BenchmarkCallers measures Balance with 1 and 64 concurrent callers
// sharing one client, for gRPC and each Connect protocol, and reports
// throughput, the median and 99th percentile latency of the calls and the
// CPU time per call (banktest.BenchCallers; client and server run in this
// process, on loopback). README.md has
// the figures.
func BenchmarkCallers(b *testing.B) {
	for _, tr := range benchTransports {
		for _, callers := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", tr.name, callers), func(b *testing.B) {
				c := banktest.Transport(tr.newServer, tr.dial)(b, bank.NewService(ledger.NewMemory(1000)))
				benchCallers(b, c, callers)
			})
		}
	}
}

func benchCallers(b *testing.B, c bank.Bank, callers int) {
	ctx := context.Background()
	call := func(n int64) error {
		_, err := c.Balance(ctx, ledger.SeedAccount(int(n%1000)+1))
		return err
	}
	for i := range int64(callers) * 10 { // warm up connections and pools
		if err := call(i); err != nil {
			b.Fatal(err)
		}
	}
	banktest.BenchCallers(b, callers, func(n int) error { return call(int64(n)) })
}
