// Command server serves IGBank over gRPC (default 127.0.0.1:7003), with the
// health service and server reflection, until SIGINT or SIGTERM.
package main

import (
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	grpcbank "github.com/igbank/igbank/grpc"
)

func main() {
	cli.ServerMain("grpc", "127.0.0.1:7003", func(b bank.Bank) transport.Server { return grpcbank.NewServer(b) })
}
