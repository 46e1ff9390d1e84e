// Command client calls an IGBank raw-sockets server:
//
//	client [-addr 127.0.0.1:7001] balance ACCOUNT
//	client [-addr 127.0.0.1:7001] statement ACCOUNT YYYY-MM
//	client [-addr 127.0.0.1:7001] deposit ACCOUNT CENTS [-key KEY]
//
// It prints the result, or exits with the error's code.
package main

import (
	"github.com/igbank/igbank/common/cli"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

func main() { cli.ClientMain(rawbank.Transport) }
