package transport

import "context"

// HealthStatus is what a server says of itself to a health probe, with the
// values and names of grpc.health.v1's ServingStatus.
type HealthStatus int

const (
	// HealthUnknown is a status the prober could not read.
	HealthUnknown HealthStatus = 0
	// Serving: the server takes calls.
	Serving HealthStatus = 1
	// NotServing: the server's Shutdown has begun; it finishes the calls
	// in progress and takes no new ones.
	NotServing HealthStatus = 2
)

// String returns the grpc.health.v1 name of s ("SERVING").
func (s HealthStatus) String() string {
	switch s {
	case Serving:
		return "SERVING"
	case NotServing:
		return "NOT_SERVING"
	}
	return "UNKNOWN"
}

// HealthChecker is a Client that can ask its server whether it is serving.
// Every transport's client implements it, each over its own wire: gRPC and
// Connect with grpc.health.v1, REST with GET /healthz, raw sockets with op
// Health, net/rpc with the IGBank.Health method, Thrift with health().
//
// Health makes one attempt, without retrying: it reports the server's
// answer, or an error (bank.ErrUnavailable when the server cannot be
// reached, as when its listener is already closed by Shutdown). A probe
// takes anything but (Serving, nil) as "not serving".
type HealthChecker interface {
	Health(ctx context.Context) (HealthStatus, error)
}

// Health asks c's server for its health, if c can (HealthChecker).
func Health(ctx context.Context, c Client) (HealthStatus, bool, error) {
	h, ok := c.(HealthChecker)
	if !ok {
		return HealthUnknown, false, nil
	}
	s, err := h.Health(ctx)
	return s, true, err
}
