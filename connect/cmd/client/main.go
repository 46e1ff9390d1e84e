// Command client calls an IGBank Connect server: balance, statement,
// deposit. It takes the common client flags and -protocol connect|grpc|grpcweb
// (default connect). Run it without arguments for usage.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/transport"
	connectbank "github.com/igbank/igbank/connect"
)

func main() {
	args, protocol, err := protocolFlag(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		os.Exit(cli.ExitUsage)
	}
	os.Exit(cli.RunClient(args, os.Stdout, os.Stderr, "127.0.0.1:7006", func(ctx context.Context, addr string) (transport.Client, error) {
		return connectbank.Dial(ctx, addr, connectbank.WithProtocol(protocol))
	}))
}

// protocolFlag takes -protocol P (or -protocol=P) out of args, wherever it
// is, and leaves the rest to the common client's flags.
func protocolFlag(args []string) (rest []string, p connectbank.Protocol, err error) {
	name := connectbank.Connect.String()
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-protocol" || a == "--protocol":
			if i+1 == len(args) {
				return nil, 0, fmt.Errorf("-protocol needs a value: connect, grpc or grpcweb")
			}
			name = args[i+1]
			i++
		case strings.HasPrefix(a, "-protocol=") || strings.HasPrefix(a, "--protocol="):
			name = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	p, ok := connectbank.ParseProtocol(name)
	if !ok {
		return nil, 0, fmt.Errorf("unknown -protocol %q: want connect, grpc or grpcweb", name)
	}
	return rest, p, nil
}
