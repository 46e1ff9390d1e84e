// Package directory is IGBank's service directory on etcd: servers
// register themselves under a logical name with a lease they keep alive
// by heartbeat, and clients resolve the name to the set of live
// addresses and follow it as it changes. It gives clients location
// transparency across replicas, and it is a failure detector: a server
// that stops renewing its lease (killed, paused, cut off) leaves the set
// when the lease's TTL runs out, so the TTL trades detection time
// against false suspicion of a server that was only slow.
//
// # Keys
//
// A server of transport T registers the key igbank/T/INSTANCE with its
// address as the value, under a lease of its own (Register); INSTANCE is
// the address it serves on, unique on a machine. The logical name of
// every server of T is igbank/T: the key prefix a client reads and
// watches (Watch).
//
// # Target syntax
//
// Where a program takes an address (-addr), a logical name is written
//
//	etcd:///igbank/grpc                   endpoints from -directory or $IGBANK_ETCD
//	etcd://127.0.0.1:2379/igbank/grpc     endpoints in the target (comma-separated)
//
// as a gRPC target is: scheme, authority, endpoint (ParseTarget). The
// etcd endpoints default to $IGBANK_ETCD, then 127.0.0.1:2379.
//
// # Clients
//
// A Directory (Open) is a transport.Names. Dial makes a client of a
// logical name for any transport: gRPC follows the set through its own
// resolver interface (ClientConfig.Names, round_robin balancing); every
// other transport gets a Balancer, which keeps one client per address,
// spreads calls over them round robin, dials an address when it joins
// the set and closes its client when it leaves. A call in flight on a
// server that died fails as unavailable, and the shared retry layers
// above send the next attempt to the next address.
//
// The directory works with Debian's etcd-server 3.4 and the Go client
// v3.7 (the v3 API is the same). etcd's leases have whole seconds and a
// floor of about 2 s (one and a half election timeouts), and the server
// revokes expired leases every 500 ms.
package directory
