// Command server serves IGBank over Thrift (framed transport) on
// 127.0.0.1:7005 by default, with the binary protocol or, with
// -protocol compact, the compact one.
package main

import (
	"flag"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/thrift"
)

func main() {
	var p thriftbank.Protocol
	flag.Var(&p, "protocol", "Thrift protocol: binary or compact")
	cli.ServerMain("thrift", "127.0.0.1:7005", func(b bank.Bank) transport.Server {
		return thriftbank.NewServer(b, thriftbank.WithProtocol(p)) // flags are parsed by now
	})
}
