package directory

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/igbank/igbank/common/transport"
)

// Directory is a connection to the directory: an etcd client. It is a
// transport.Names, and safe for concurrent use.
type Directory struct {
	Client *clientv3.Client
}

// dialTimeout bounds the connection to etcd.
const dialTimeout = 5 * time.Second

// Open connects to the etcd cluster at endpoints (host:port). It does not
// wait for etcd: the first request does, within its context.
func Open(endpoints []string) (*Directory, error) {
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: dialTimeout,
		// The client logs every lost connection and retried request at
		// warn level through zap, in its own format: a program's own log
		// says what matters (a registration lost, a set changed).
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, err
	}
	return &Directory{Client: c}, nil
}

// OpenTarget connects to the directory that t names, or to the one at
// endpoints (comma-separated) when t names none.
func OpenTarget(t Target, endpoints string) (*Directory, error) {
	eps := t.Endpoints
	if eps == nil {
		var err error
		if eps, err = ParseEndpoints(endpoints); err != nil {
			return nil, err
		}
	}
	return Open(eps)
}

// Close closes the connection to etcd.
func (d *Directory) Close() error { return d.Client.Close() }

// Resolve returns the set of addresses registered under name, kept
// current until its Close (Watch).
func (d *Directory) Resolve(ctx context.Context, name string) (transport.Addrs, error) {
	return Watch(ctx, d.Client, name)
}

// Register registers addr under name (Register).
func (d *Directory) Register(ctx context.Context, name, instance, addr string, ttl time.Duration) (*Registration, error) {
	return Register(ctx, d.Client, name, instance, addr, ttl)
}
