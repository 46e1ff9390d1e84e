// Package faults is the partial-failure lab behind "loadtest faults": it
// makes the classic partial failures happen on purpose between a
// transport's client and its server on 127.0.0.1, drives deposits with
// idempotency keys through the shared client layers (common/resilience:
// retries, budget, breaker), and audits the ledger afterwards
// (common/audit): every acknowledged deposit applied exactly once, none
// twice, none invented, those of unknown outcome at most once.
//
// Each Scenario is one failure. The network ones (refused, unresolvable,
// reset, latency, slow-link, truncated, lost request or response, outage)
// run in this process: a fresh in-memory ledger, the transport's server
// and an embedded Toxiproxy in front of it (toxics.go), its toxics switched
// on and off in windows over the run; slow-server delays deposits in the
// server itself. The crashes (crash-before-apply, crash-after-apply) need
// a server process of its own (package server's StartChild) on a SQLite
// file that SIGKILLs itself on a deposit and is restarted on the same file
// and address (crash.go, crashfault.go). Config.IgnoreKeys runs any of them
// against a server that ignores keys: the deposit-twice bug the audit
// then finds.
//
// RunAll runs the matrix, scenario × transport. Each cell's Result holds
// the audit, what the client saw (errors by code, attempts, breaker
// transitions, latencies) and every call's timeline. WriteTable prints the
// matrix, WriteHTML draws it with the outage timelines (package chart,
// package page), WriteJSON and Decode save and read it (kind "faults"),
// and WriteComparison and WriteComparisonHTML set two saved runs side by
// side, such as keys on against keys off.
package faults
