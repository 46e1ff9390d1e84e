package rawbank

import (
	"context"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

var (
	_ transport.Server = (*Server)(nil)
	_ transport.Client = (*Client)(nil)
)

// ServerFunc returns a transport.NewServerFunc that makes servers with opts,
// for the conformance suite, the load generator and cmd/server.
func ServerFunc(opts ...ServerOption) transport.NewServerFunc {
	return func(b bank.Bank) transport.Server { return NewServer(b, opts...) }
}

// DialFunc returns a transport.DialFunc that dials clients with opts.
func DialFunc(opts ...ClientOption) transport.DialFunc {
	return func(ctx context.Context, addr string) (transport.Client, error) {
		c, err := Dial(ctx, addr, opts...)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}
