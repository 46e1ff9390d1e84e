// Package server runs the servers the load generator measures: a
// registered transport over a ledger, either in this process (Start,
// StartInProcess) or in a process of its own (StartChild), which is this
// program again in "serve" mode, so that the server's CPU, allocations and
// memory are measured apart from the client's. Every server counts the
// bytes its connections carry (above TCP) and answers for its process's
// own accounting (ProcStats: getrusage, runtime/metrics, resident memory),
// and can be given the partial-failure lab's server-side faults (keys
// ignored, a crash on a deposit).
//
// Serve is the "serve" mode itself, given a parsed Config: the command
// (cmd/loadtest) calls it for "loadtest serve", and a process started by
// StartChild runs it through MaybeServe, which reads the Config from the
// environment (IGBANK_LOADTEST_SERVE). A test binary that starts server processes is
// os.Executable then, so its TestMain calls MaybeServe first:
//
//	func TestMain(m *testing.M) {
//		server.MaybeServe()
//		os.Exit(m.Run())
//	}
//
// The process accounting is per platform (procstats_*.go): CPU time from
// getrusage or GetProcessTimes, resident memory and CPU pinning on Linux
// only (PinAvailable, RSSAvailable say what this build can do).
package server
