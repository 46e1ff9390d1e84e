// Command server serves IGBank over net/rpc (gob) on 127.0.0.1:7002 until
// SIGINT or SIGTERM, then shuts down gracefully.
//
//	server [-addr HOST:PORT] [-accounts N]
package main

import (
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	netrpcbank "github.com/igbank/igbank/netrpc"
)

func main() {
	cli.ServerMain("netrpc", "127.0.0.1:7002", func(b bank.Bank) transport.Server {
		return netrpcbank.NewServer(b)
	})
}
