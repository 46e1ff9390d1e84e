// Command server serves IGBank over REST/JSON until SIGINT or
// SIGTERM, then shuts down gracefully:
//
//	server [-addr 127.0.0.1:7004] [-accounts 10000] [-store memory|sqlite:PATH|postgres://...] [-cors-origins ORIGIN,...]
package main

import (
	"github.com/igbank/igbank/common/cli"
	restbank "github.com/igbank/igbank/rest-json"
)

func main() { cli.ServerMain(restbank.Transport) }
