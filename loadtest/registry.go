package loadtest

import (
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// Registry returns every registered transport variant (the list is
// transports.All), for callers (tests, tools) that iterate them.
func Registry() []transport.Variant { return transports.Variants() }

// Lookup returns the registered transport variant called name, the
// reference (ReferenceName) included.
func Lookup(name string) (transport.Variant, bool) {
	if name == ReferenceName {
		return Reference, true
	}
	_, v, ok := transports.Lookup(name)
	return v, ok
}
