// Package netem puts an emulated network (latency, jitter, bandwidth)
// beneath any server, in user space: the kernel's netem (tc qdisc ...
// netem) is not available on the machines the benchmarks run on, and every
// transport here (raw TCP, net/rpc, gRPC, REST, Thrift, Connect) serves on
// a net.Listener, so wrapping the server's listener puts all six under the
// same network without touching a client. The delays are slept with
// package pace, so they end within tens of µs of their time on Linux.
//
// A Profile is a one-way latency, a jitter and a bandwidth each way. The
// presets (LAN, WAN, LongHaul) are those of grpc-go's benchmark/latency;
// Parse reads them and custom profiles, String writes them back.
//
// # Only the server's side
//
// The whole round trip, twice the one-way latency and the jitter of both
// ways, is added to what the server writes; what the client writes reaches
// the server at once. Every request and its response, and every
// flow-control exchange (a TCP or HTTP/2 window update and the data it lets
// through), crosses the network once in each direction, so any loop that
// starts and ends at a client takes exactly the round trip it would over a
// real network, and no client needs wrapping. What this gives up is the
// one-way view: a message the server sends unasked (a streamed item, a
// goodbye) arrives one whole round trip after it was sent rather than one
// one-way latency.
//
// Downstream bandwidth paces the server's writes; upstream bandwidth paces
// its reads, which return bytes no faster than the link would carry them.
// Both are serialization, not added latency: each direction keeps the
// virtual time its link becomes free, and a chunk's transmission starts
// then or now, whichever is later. The connections of one Listener share
// one link each way, as the connections between two machines share their
// network: a client that opens many connections gets no more bandwidth
// than one that multiplexes calls on one. A client's own writes are not slowed;
// they complete into its socket buffer as fast as the kernel takes them,
// and only the server sees them arrive at the upstream rate.
//
// # The write queue
//
// A Write copies its bytes into the connection's queue, each chunk
// stamped with the time it is due at the client (the end of its
// transmission at the downstream bandwidth, plus the round trip and
// jitter, never before the chunk ahead of it, so bytes never reorder),
// and returns at once; one goroutine per connection writes each chunk to
// the socket when it is due. The queue is bounded like a TCP send buffer,
// by the bandwidth-delay product but at least 1 MiB and at most 4 MiB: a
// Write that does not fit waits for room, until the write deadline. Like a
// TCP window, the bound caps one connection's throughput at the bound per
// round trip (4 MiB per 400 ms, about 84 Mbit/s, on LongHaul). Close does
// not wait: what is queued is still delivered, for at most 10 s or until
// the write deadline, and then the socket is closed.
package netem
