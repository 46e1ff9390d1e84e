// Command client calls an IGBank REST/JSON server (default 127.0.0.1:7004).
package main

import (
	"context"

	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	restbank "github.com/igbank/igbank/rest-json"
)

func main() {
	cli.ClientMain("127.0.0.1:7004", func(ctx context.Context, addr string) (transport.Client, error) {
		return restbank.Dial(ctx, addr)
	})
}
