package pbbank

// The HTTP/2 sizing the gRPC and Connect servers share: what one
// connection may make a server hold. The READMEs give the budget they add
// up to.
const (
	// StreamWindow is each stream's flow-control window: the request
	// bytes a peer may send on a stream before the server reads them
	// (64 KiB, the least grpc-go accepts).
	StreamWindow = 64 << 10
	// ConnWindow is the connection's flow-control window.
	ConnWindow = 1 << 20
)
