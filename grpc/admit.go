package grpcbank

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"

	"github.com/igbank/igbank/common/admit"
)

// admissionOptions tell a's connections when a call is in progress, so
// that the admission reclaims only idle ones: grpc-go hands its hooks a
// call's peer addresses, not its net.Conn, and a finds the connection by
// them (admit.Admission.Lookup). Interceptors rather than a stats.Handler,
// which would make grpc-go allocate its events for every call.
func admissionOptions(a *admit.Admission) []grpc.ServerOption {
	conn := func(ctx context.Context) *admit.Conn {
		if p, ok := peer.FromContext(ctx); ok {
			return a.Lookup(p.LocalAddr, p.Addr)
		}
		return nil
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
			c := conn(ctx)
			c.Begin()
			defer c.End()
			return next(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
			c := conn(ss.Context())
			c.Begin()
			defer c.End()
			return next(srv, ss)
		}),
	}
}
