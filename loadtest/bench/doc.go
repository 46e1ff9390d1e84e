// Package bench is the load generator's engine: it drives the same IGBank
// workload through every transport and measures them side by side. Run
// takes a Config (what "loadtest run" was asked: transports, load points,
// rounds, durations, workload), starts each transport's server through
// package server (in a process of its own by default, so that server and
// client costs are measured apart), runs the transports in interleaved
// rounds with the TCP ping-pong reference of package registry in each,
// and returns a Report: per transport and load point, every round's
// throughput, HdrHistogram latencies, errors by code, CPU, allocations and
// bytes per call, and their medians over the rounds.
//
// A load point is a closed loop (Concurrency callers, each sending its
// next call when the last is answered) or an open loop (a fixed arrival
// rate; each call's latency counts from its intended send time, so that a
// stalled server is not hidden by coordinated omission). Pacing is a
// nanosleep with 1 ns timer slack on Linux (runner_linux.go) and
// time.Sleep elsewhere (runner_other.go). The workload's generator picks
// operations and accounts from a seeded source and makes idempotency keys
// without allocating per call.
//
// The engine knows no flags and prints nothing: package report renders a
// Report (table, JSON, CSV, benchstat, HTML) and cmd/loadtest turns the
// command line into a Config.
package bench
