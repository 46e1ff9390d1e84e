// Command server serves IGBank over Connect, gRPC and gRPC-Web on one port (HTTP/1.1 and h2c) until SIGINT or
// SIGTERM, then shuts down gracefully:
//
//	server [-addr 127.0.0.1:7006] [-accounts 10000] [-store memory|sqlite:PATH|postgres://...] [-cors-origins ORIGIN,...]
package main

import (
	"github.com/igbank/igbank/common/cli"
	connectbank "github.com/igbank/igbank/connect"
)

func main() { cli.ServerMain(connectbank.Transport) }
