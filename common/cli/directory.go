package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/igbank/igbank/common/directory"
	"github.com/igbank/igbank/common/transport"
)

// DefaultLeaseTTL is the TTL of a server's lease in the directory: how
// long after its last heartbeat a server that died (or froze) is still
// listed. etcd's floor is about 2 s.
const DefaultLeaseTTL = 2 * time.Second

// Directory is -register, -directory and -lease-ttl: a server registers
// itself in the directory (package directory) under a logical name.
type Directory struct {
	// Register is the logical name to register under, in the target
	// syntax ("etcd:///igbank/grpc"); "" registers nothing.
	Register string
	// Endpoints are the etcd endpoints (comma-separated host:port) when
	// the name gives none; default $IGBANK_ETCD, else 127.0.0.1:2379.
	Endpoints string
	// LeaseTTL is the lease's TTL (whole seconds).
	LeaseTTL time.Duration
}

const directoryUsage = "etcd endpoints (comma-separated host:port) of the directory, for logical names that name none (etcd:///...); default $" + directory.EnvVar + ", else " + directory.DefaultEndpoints

// RegisterFlags adds -register, -directory and -lease-ttl to fs.
func (d *Directory) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&d.Register, "register", "", "register this server in the directory under a logical name, such as etcd:///igbank/grpc (key NAME/ADDR, under a lease kept alive by heartbeat, revoked at shutdown); empty: none")
	fs.StringVar(&d.Endpoints, "directory", directory.Endpoints(), directoryUsage)
	fs.DurationVar(&d.LeaseTTL, "lease-ttl", DefaultLeaseTTL, "TTL of the directory lease (whole seconds, 2s at least): how long a server that stopped heartbeating stays listed")
}

// Args returns the command line that gives a server d.
func (d Directory) Args() []string {
	if d.Register == "" {
		return nil
	}
	args := []string{"-register", d.Register}
	if d.Endpoints != "" {
		args = append(args, "-directory", d.Endpoints)
	}
	if d.LeaseTTL != 0 {
		args = append(args, "-lease-ttl", d.LeaseTTL.String())
	}
	return args
}

// join registers the server listening on addr, with addr as its
// instance, and returns the function that revokes the registration and
// closes the connection to etcd; without -register it does nothing.
func (d Directory) join(ctx context.Context, addr string) (func() error, error) {
	if d.Register == "" {
		return func() error { return nil }, nil
	}
	t, err := directory.ParseTarget(d.Register)
	if err != nil {
		return nil, fmt.Errorf("-register: %w", err)
	}
	if d.LeaseTTL < time.Second {
		return nil, fmt.Errorf("-lease-ttl %v: want 1s or more", d.LeaseTTL)
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || net.ParseIP(host) == nil || net.ParseIP(host).IsUnspecified() {
		return nil, fmt.Errorf("-register: the server listens on %s, an address clients cannot dial: give -addr a host", addr)
	}
	dir, err := directory.OpenTarget(t, d.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("-directory: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := dir.Register(context.WithoutCancel(rctx), t.Name, addr, addr, d.LeaseTTL)
	if err != nil {
		dir.Close()
		return nil, fmt.Errorf("-register: %w", err)
	}
	return func() error {
		err := r.Close()
		dir.Close()
		return err
	}, nil
}

// ClientDirectory is a client's -directory: where a logical name given
// as -addr is resolved.
type ClientDirectory struct {
	Endpoints string
}

// Register adds -directory to fs.
func (d *ClientDirectory) Register(fs *flag.FlagSet) {
	fs.StringVar(&d.Endpoints, "directory", directory.Endpoints(), directoryUsage)
}

// Dial dials variant v of transport d at addr: a host:port, or a logical
// name (etcd:///igbank/grpc), resolved in the directory and followed as
// the set of servers changes (directory.Dial).
func (cd ClientDirectory) Dial(ctx context.Context, d transport.Descriptor, v transport.Variant, addr string, cfg transport.ClientConfig) (transport.Client, error) {
	if transport.IsName(addr) {
		return directory.Dial(ctx, d, v, addr, cd.Endpoints, cfg)
	}
	return v.Dial(ctx, addr, cfg)
}
