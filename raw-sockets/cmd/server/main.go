// Command server serves IGBank over the raw-sockets protocol until SIGINT or
// SIGTERM, then shuts down gracefully:
//
//	server [-addr 127.0.0.1:7001] [-accounts 10000] [-store memory|sqlite:PATH|postgres://...]
package main

import (
	"github.com/igbank/igbank/common/cli"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

func main() { cli.ServerMain(rawbank.Transport) }
