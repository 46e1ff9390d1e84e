// Command server serves IGBank over the raw-sockets protocol:
//
//	server [-addr 127.0.0.1:7001] [-accounts 10000]
package main

import (
	"github.com/igbank/igbank/common/cli"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

func main() { cli.ServerMain("raw", "127.0.0.1:7001", rawbank.ServerFunc()) }
