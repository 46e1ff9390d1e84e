// Command client calls an IGBank net/rpc server:
//
//	client [-addr 127.0.0.1:7002] balance ACCOUNT
//	client [-addr 127.0.0.1:7002] statement ACCOUNT YYYY-MM
//	client [-addr 127.0.0.1:7002] deposit ACCOUNT CENTS [-key KEY]
//
// It prints the result, or exits with the error's code.
package main

import (
	"github.com/igbank/igbank/common/cli"
	netrpcbank "github.com/igbank/igbank/netrpc"
)

func main() { cli.ClientMain(netrpcbank.Transport) }
