// Package registry is the load generator's list of transports: every
// variant of github.com/igbank/igbank/transports, looked up by name, plus
// the bare TCP ping-pong (Reference) that runs beside them in every round
// as the yardstick, and a no-op client (Noop) that measures the generator
// alone. The engine, the labs and the server processes all find a
// transport here by the name a user typed.
package registry

import (
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// Variants returns every registered transport variant (the list is
// transports.All), for callers (tests, tools) that iterate them.
func Variants() []transport.Variant { return transports.Variants() }

// Names lists the registered transports' names, the reference first if
// withReference.
func Names(withReference bool) []string {
	var n []string
	if withReference {
		n = append(n, ReferenceName)
	}
	return append(n, transports.Names()...)
}

// Lookup returns the registered transport variant called name, the
// reference (ReferenceName) included.
func Lookup(name string) (transport.Variant, bool) {
	if name == ReferenceName {
		return Reference, true
	}
	_, v, ok := transports.Lookup(name)
	return v, ok
}
