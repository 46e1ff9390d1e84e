// Command server serves IGBank over gRPC, with the health service and server reflection, until SIGINT or
// SIGTERM, then shuts down gracefully:
//
//	server [-addr 127.0.0.1:7003] [-accounts 10000] [-store memory|sqlite:PATH|postgres://...]
//
// What grpc-go itself logs goes to the server's log (grpcbank.Logs).
package main

import (
	"google.golang.org/grpc/grpclog"

	"github.com/igbank/igbank/common/cli"
	grpcbank "github.com/igbank/igbank/grpc"
)

func main() {
	grpclog.SetLoggerV2(grpcbank.Logs())
	cli.ServerMain(grpcbank.Transport)
}
