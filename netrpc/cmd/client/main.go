// Command client calls an IGBank net/rpc server:
//
//	client [-addr HOST:PORT] balance ACCOUNT
//	client [-addr HOST:PORT] statement ACCOUNT YYYY-MM
//	client [-addr HOST:PORT] deposit ACCOUNT CENTS [-key KEY]
//
// It prints the result, or exits with the error's code.
package main

import (
	"context"

	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	netrpcbank "github.com/igbank/igbank/netrpc"
)

func main() {
	cli.ClientMain("127.0.0.1:7002", func(ctx context.Context, addr string) (transport.Client, error) {
		c, err := netrpcbank.Dial(ctx, addr)
		if err != nil {
			return nil, err // a nil interface, not a typed nil
		}
		return c, nil
	})
}
