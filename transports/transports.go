package transports

import (
	"github.com/igbank/igbank/common/transport"
	connectbank "github.com/igbank/igbank/connect"
	grpcbank "github.com/igbank/igbank/grpc"
	netrpcbank "github.com/igbank/igbank/netrpc"
	rawbank "github.com/igbank/igbank/raw-sockets"
	restbank "github.com/igbank/igbank/rest-json"
	thriftbank "github.com/igbank/igbank/thrift"
)

// All is every transport, in the order reports list them before ranking.
// It is the one place outside each transport's own module that names
// them: adding a transport is one module, one line here and one line in
// go.work (docs/architecture.md has the checklist).
var All = []transport.Descriptor{
	rawbank.Transport,
	netrpcbank.Transport,
	grpcbank.Transport,
	connectbank.Transport,
	restbank.Transport,
	thriftbank.Transport,
}

// Variants returns every variant of every transport, in order: the names
// the load generator runs and reports.
func Variants() []transport.Variant {
	var vs []transport.Variant
	for _, d := range All {
		vs = append(vs, d.Variants...)
	}
	return vs
}

// Names returns the names of Variants.
func Names() []string {
	var ns []string
	for _, v := range Variants() {
		ns = append(ns, v.Name)
	}
	return ns
}

// Lookup returns the transport and the variant called name ("grpc",
// "thrift-compact").
func Lookup(name string) (transport.Descriptor, transport.Variant, bool) {
	for _, d := range All {
		for _, v := range d.Variants {
			if v.Name == name {
				return d, v, true
			}
		}
	}
	return transport.Descriptor{}, transport.Variant{}, false
}
