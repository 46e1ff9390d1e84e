// Command server serves IGBank over REST/JSON (default 127.0.0.1:7004).
package main

import (
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	restbank "github.com/igbank/igbank/rest-json"
)

func main() {
	cli.ServerMain("rest", "127.0.0.1:7004", func(b bank.Bank) transport.Server { return restbank.NewServer(b) })
}
