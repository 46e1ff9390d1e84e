// Command server serves IGBank over Connect, gRPC and gRPC-Web on one port
// (default 127.0.0.1:7006, HTTP/1.1 and h2c) until SIGINT or SIGTERM.
package main

import (
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	connectbank "github.com/igbank/igbank/connect"
)

func main() {
	cli.ServerMain("connect", "127.0.0.1:7006", func(b bank.Bank) transport.Server { return connectbank.NewServer(b) })
}
