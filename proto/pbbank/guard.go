package pbbank

import (
	"log/slog"
	"net"
	"time"

	"github.com/igbank/igbank/common/h2guard"
)

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
	// PendingRequestBytes bounds the bytes of requests begun and not
	// ended on one connection (h2guard.Limits.RequestBytes). A client's
	// requests are a few hundred bytes each and end in the frame that
	// carries them.
	PendingRequestBytes = 256 << 10
	// ResetRate and ResetBurst bound the streams a peer may reset
	// (RST_STREAM) per second, and at once, before it is sent GOAWAY: a
	// client cancelling every call it has open, twice over, and a
	// thousand a second. Every reset stream costs the server a stream, a
	// request and, on Connect, a handler: a burst of 1,000 let 4 flooding
	// connections hold 98 MiB of Connect's heap.
	ResetRate  = 1000
	ResetBurst = 2 * MaxConcurrentStreams
)

// GuardLimits are the h2guard limits of a server whose request and write
// timeouts are read and write (a request not complete read after its
// headers, a response the peer does not let through for write, ends the
// connection; zero turns that check off). Violations are logged to logger
// at warning level.
func GuardLimits(read, write time.Duration, logger *slog.Logger) h2guard.Limits {
	return h2guard.Limits{
		ResetRate:      ResetRate,
		ResetBurst:     ResetBurst,
		RequestTimeout: read,
		StallTimeout:   write,
		RequestBytes:   PendingRequestBytes,
		MaxStreams:     4 * MaxConcurrentStreams,
		OnViolation: func(c net.Conn, v h2guard.Violation) {
			if logger != nil {
				logger.Warn("HTTP/2 connection ended", "reason", string(v), "peer", c.RemoteAddr().String())
			}
		},
	}
}
