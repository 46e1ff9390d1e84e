// Command client calls an IGBank gRPC server:
//
//	client [-addr 127.0.0.1:7003] balance ACCOUNT
//	client [-addr 127.0.0.1:7003] statement ACCOUNT YYYY-MM
//	client [-addr 127.0.0.1:7003] deposit ACCOUNT CENTS [-key KEY]
//
// It prints the result, or exits with the error's code.
package main

import (
	"github.com/igbank/igbank/common/cli"
	grpcbank "github.com/igbank/igbank/grpc"
)

func main() { cli.ClientMain(grpcbank.Transport) }
