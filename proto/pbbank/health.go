package pbbank

import (
	"github.com/igbank/igbank/common/transport"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// HealthFromProto converts a grpc.health.v1 status, as the gRPC and
// Connect servers answer it, to the transports' HealthStatus (the same
// numbers: SERVING 1, NOT_SERVING 2; anything else is unknown).
func HealthFromProto(s healthpb.HealthCheckResponse_ServingStatus) transport.HealthStatus {
	switch s {
	case healthpb.HealthCheckResponse_SERVING:
		return transport.Serving
	case healthpb.HealthCheckResponse_NOT_SERVING:
		return transport.NotServing
	}
	return transport.HealthUnknown
}
