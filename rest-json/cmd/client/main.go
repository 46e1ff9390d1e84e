// Command client calls an IGBank REST/JSON server:
//
//	client [-addr 127.0.0.1:7004] balance ACCOUNT
//	client [-addr 127.0.0.1:7004] statement ACCOUNT YYYY-MM
//	client [-addr 127.0.0.1:7004] deposit ACCOUNT CENTS [-key KEY]
//
// It prints the result, or exits with the error's code.
package main

import (
	"github.com/igbank/igbank/common/cli"
	restbank "github.com/igbank/igbank/rest-json"
)

func main() { cli.ClientMain(restbank.Transport) }
