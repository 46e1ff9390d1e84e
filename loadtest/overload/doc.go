// Package overload is the load-shedding experiment ("loadtest overload"):
// an open-loop sweep of offered load past a server's capacity, with the
// server's admission control (common/shed) off and on, charted as goodput
// (successful calls per second) and p99 latency of the successful calls
// against the offered load.
//
// Without shedding a server takes every call: past its capacity the calls
// queue inside it, every caller waits longer, callers whose deadline
// passes give up on calls the server then serves all the same, and
// goodput falls while the server is busiest. With shedding the server
// refuses at once what it cannot serve in time (bank.Unavailable with a
// retry-after hint): the calls it admits stay fast and its goodput stays
// near its capacity.
//
// To make capacity small and steady on a two-core machine shared with the
// load generator, every server is given a backend of fixed capacity
// (server.Backend: Slots workers held Time per call, as a database pool
// would be) that serves even the calls whose caller has given up. Run
// measures that capacity first through each transport (a closed loop),
// then drives each transport's server, in its own process, with package
// bench's open loop at multiples of it. The engine is bench.Run; this
// package only chooses the points and reads the results.
package overload
