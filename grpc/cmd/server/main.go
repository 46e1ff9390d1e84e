// Command server serves IGBank over gRPC, with the health service and server reflection, until SIGINT or
// SIGTERM, then shuts down gracefully:
//
//	server [-addr 127.0.0.1:7003] [-accounts 10000] [-store memory|sqlite:PATH|postgres://...]
package main

import (
	"github.com/igbank/igbank/common/cli"
	grpcbank "github.com/igbank/igbank/grpc"
)

func main() { cli.ServerMain(grpcbank.Transport) }
