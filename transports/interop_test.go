package transports_test

import (
	"context"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/transport"
	connectbank "github.com/igbank/igbank/connect"
	grpcbank "github.com/igbank/igbank/grpc"
)

func newConnectServer(b bank.Bank) transport.Server { return connectbank.NewServer(b) }

func newGRPCServer(b bank.Bank) transport.Server { return grpcbank.NewServer(b) }

func connectDialer(opts ...connectbank.ClientOption) transport.DialFunc {
	return func(ctx context.Context, addr string) (transport.Client, error) {
		return connectbank.Dial(ctx, addr, opts...)
	}
}

func grpcDialer(opts ...grpcbank.ClientOption) transport.DialFunc {
	return func(ctx context.Context, addr string) (transport.Client, error) {
		return grpcbank.Dial(ctx, addr, opts...)
	}
}

// Wire compatibility: Connect speaks gRPC. The grpc-go client passes the
// suite against the Connect server, and the Connect client in gRPC mode
// against the grpc-go server.
func TestWireCompatibility(t *testing.T) {
	t.Run("GRPCClientConnectServer", func(t *testing.T) {
		banktest.Run(t, banktest.Transport(newConnectServer, grpcDialer()))
	})
	t.Run("ConnectClientGRPCServer", func(t *testing.T) {
		banktest.Run(t, banktest.Transport(newGRPCServer, connectDialer(connectbank.WithProtocol(connectbank.GRPC))))
	})
}
