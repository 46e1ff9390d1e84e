// Command client calls an IGBank Thrift server:
//
//	client [-addr 127.0.0.1:7005] [-protocol binary|compact] balance ACCOUNT
//	client [-addr 127.0.0.1:7005] [-protocol binary|compact] statement ACCOUNT YYYY-MM
//	client [-addr 127.0.0.1:7005] [-protocol binary|compact] deposit ACCOUNT CENTS [-key KEY]
//
// It prints the result, or exits with the error's code.
package main

import (
	"github.com/igbank/igbank/common/cli"
	thriftbank "github.com/igbank/igbank/thrift"
)

func main() { cli.ClientMain(thriftbank.Transport) }
