// Command client calls an IGBank Connect server:
//
//	client [-addr 127.0.0.1:7006] [-protocol connect|grpc|grpcweb] balance ACCOUNT
//	client [-addr 127.0.0.1:7006] [-protocol connect|grpc|grpcweb] statement ACCOUNT YYYY-MM
//	client [-addr 127.0.0.1:7006] [-protocol connect|grpc|grpcweb] deposit ACCOUNT CENTS [-key KEY]
//
// It prints the result, or exits with the error's code.
package main

import (
	"github.com/igbank/igbank/common/cli"
	connectbank "github.com/igbank/igbank/connect"
)

func main() { cli.ClientMain(connectbank.Transport) }
