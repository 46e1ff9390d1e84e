package grpcbank

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/resolver"

	"github.com/igbank/igbank/common/transport"
)

// nameOptions are the dial options of a client of a logical name: the
// directory as the resolver of its scheme, and round_robin balancing, so
// that the ClientConn keeps a connection to every server in the set,
// spreads calls over them, and stops sending to an address as soon as
// the directory drops it. The service config is the client's default
// one: WithDisableServiceConfig keeps any from a resolver out.
func nameOptions(names transport.Names) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithResolvers(nameBuilder{names}),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin": {}}]}`),
	}
}

// nameBuilder builds the resolvers of etcd:///NAME targets.
type nameBuilder struct{ names transport.Names }

func (nameBuilder) Scheme() string { return transport.NameScheme }

// Build resolves target's name (its endpoint, "igbank/grpc"; the etcd
// endpoints of an authority were used to make names) and reports every
// change of its set to cc until Close.
func (b nameBuilder) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	name := target.Endpoint()
	ctx, cancel := context.WithTimeout(context.Background(), dialResolveTimeout)
	set, err := b.names.Resolve(ctx, name)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", name, err)
	}
	r := &nameResolver{set: set, done: make(chan struct{}), stopped: make(chan struct{})}
	go r.follow(cc, name)
	return r, nil
}

// dialResolveTimeout bounds the first lookup of a name.
const dialResolveTimeout = 5 * time.Second

type nameResolver struct {
	set     transport.Addrs
	done    chan struct{}
	stopped chan struct{}
}

func (r *nameResolver) follow(cc resolver.ClientConn, name string) {
	defer close(r.stopped)
	for {
		changed := r.set.Changed()
		addrs := r.set.Addrs()
		if len(addrs) == 0 {
			// An empty list is no state to balance over: calls fail as
			// Unavailable with this error until a server registers.
			cc.ReportError(fmt.Errorf("no server registered under %s", name))
		} else {
			state := resolver.State{Addresses: make([]resolver.Address, len(addrs))}
			for i, a := range addrs {
				// The server's TLS name is its host, not the logical name
				// that is the ClientConn's authority.
				host, _, _ := net.SplitHostPort(a)
				state.Addresses[i] = resolver.Address{Addr: a, ServerName: strings.Trim(host, "[]")}
			}
			cc.UpdateState(state)
		}
		select {
		case <-r.done:
			return
		case <-changed:
		}
	}
}

// ResolveNow does nothing: the set is followed by a watch, not polled.
func (*nameResolver) ResolveNow(resolver.ResolveNowOptions) {}

func (r *nameResolver) Close() {
	close(r.done)
	<-r.stopped
	r.set.Close()
}
