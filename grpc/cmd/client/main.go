// Command client calls an IGBank gRPC server: balance, statement, deposit.
// Run it without arguments for usage.
package main

import (
	"context"

	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	grpcbank "github.com/igbank/igbank/grpc"
)

func main() {
	cli.ClientMain("127.0.0.1:7003", func(ctx context.Context, addr string) (transport.Client, error) {
		return grpcbank.Dial(ctx, addr)
	})
}
