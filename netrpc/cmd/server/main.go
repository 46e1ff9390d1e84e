// Command server serves IGBank over net/rpc (gob) until SIGINT or
// SIGTERM, then shuts down gracefully:
//
//	server [-addr 127.0.0.1:7002] [-accounts 10000] [-store memory|sqlite:PATH|postgres://...]
package main

import (
	"github.com/igbank/igbank/common/cli"
	netrpcbank "github.com/igbank/igbank/netrpc"
)

func main() { cli.ServerMain(netrpcbank.Transport) }
