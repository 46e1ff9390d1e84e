// Command server serves IGBank over Thrift (framed transport) until SIGINT or
// SIGTERM, then shuts down gracefully:
//
//	server [-addr 127.0.0.1:7005] [-accounts 10000] [-store memory|sqlite:PATH|postgres://...] [-protocol binary|compact]
package main

import (
	"github.com/igbank/igbank/common/cli"
	thriftbank "github.com/igbank/igbank/thrift"
)

func main() { cli.ServerMain(thriftbank.Transport) }
