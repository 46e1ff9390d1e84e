// Command client calls an IGBank Thrift server (127.0.0.1:7005 by
// default); -protocol must match the server's.
package main

import (
	"context"
	"flag"

	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/thrift"
)

func main() {
	var p thriftbank.Protocol
	cli.ClientMain("127.0.0.1:7005",
		func(ctx context.Context, addr string) (transport.Client, error) {
			return thriftbank.DialFunc(thriftbank.WithProtocol(p))(ctx, addr)
		},
		cli.WithClientFlags(func(fs *flag.FlagSet) {
			fs.Var(&p, "protocol", "Thrift protocol: binary or compact")
		}))
}
