package directory

import (
	"context"
	"errors"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

// Dial returns a client, of variant v of transport d, of every server
// registered under the logical name target ("etcd:///igbank/grpc"; see
// ParseTarget), following the set as it changes. It connects to the
// etcd cluster the target names, or to endpoints (comma-separated) when
// it names none, and its Close closes that connection too. A target
// that does not parse is bank.InvalidArgument; a directory that cannot
// be read, bank.Unavailable.
func Dial(ctx context.Context, d transport.Descriptor, v transport.Variant, target, endpoints string, cfg transport.ClientConfig) (transport.Client, error) {
	t, err := ParseTarget(target)
	if err != nil {
		return nil, bank.Wrap(bank.InvalidArgument, err)
	}
	dir, err := OpenTarget(t, endpoints)
	if err != nil {
		return nil, bank.Wrap(bank.InvalidArgument, err)
	}
	c, err := DialName(ctx, d, v, t.Name, dir, cfg)
	if err != nil {
		dir.Close()
		return nil, err
	}
	return &owning{Client: c, dir: dir}, nil
}

// DialName is Dial with a directory already open: the client of the
// servers registered under name, resolved through names. A transport
// that resolves names itself (Descriptor.Resolves: gRPC) is given the
// name as its address and names in ClientConfig.Names; the others get a
// Balancer over the set.
func DialName(ctx context.Context, d transport.Descriptor, v transport.Variant, name string, names transport.Names, cfg transport.ClientConfig) (transport.Client, error) {
	if err := CheckName(name); err != nil {
		return nil, bank.Wrap(bank.InvalidArgument, err)
	}
	if d.Resolves {
		cfg.Names = names
		return v.Dial(ctx, transport.NameScheme+":///"+name, cfg)
	}
	set, err := names.Resolve(ctx, name)
	if err != nil {
		return nil, bank.Wrap(bank.Unavailable, err)
	}
	return NewBalancer(set, v.DialFunc(cfg), name), nil
}

// owning is a client that also owns the directory it resolves through.
type owning struct {
	transport.Client
	dir *Directory
}

func (o *owning) Close() error { return errors.Join(o.Client.Close(), o.dir.Close()) }
