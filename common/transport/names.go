package transport

import (
	"context"
	"strings"
)

// NameScheme is the scheme of a logical name given where an address is
// expected: "etcd:///igbank/grpc" names every server registered under
// igbank/grpc in the directory (package directory), wherever they are.
const NameScheme = "etcd"

// IsName reports whether addr is a logical name ("etcd:///igbank/grpc",
// "etcd://ENDPOINTS/igbank/grpc") rather than a host:port.
func IsName(addr string) bool { return strings.HasPrefix(addr, NameScheme+"://") }

// Names resolves the logical name of a set of servers to their addresses
// and follows the set as servers come and go: the directory, seen from a
// client (package directory implements it over etcd). It is here, not
// there, so that a transport whose client resolves names itself (gRPC,
// through its resolver interface; Descriptor.Resolves) can take one in
// ClientConfig.Names without depending on etcd.
type Names interface {
	// Resolve returns the addresses registered under name ("igbank/grpc"),
	// kept current until Close. ctx bounds the first lookup only.
	Resolve(ctx context.Context, name string) (Addrs, error)
}

// Addrs is the current set of addresses of a logical name.
type Addrs interface {
	// Addrs returns the addresses registered now, sorted; none is an
	// empty slice.
	Addrs() []string
	// Changed returns a channel that is closed at the next change of the
	// set (or at Close): wait on it, then call Addrs and Changed again.
	Changed() <-chan struct{}
	// Close stops following the set.
	Close() error
}
