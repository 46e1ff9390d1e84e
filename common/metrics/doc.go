// Package metrics exports what IGBank's servers and client layers do as
// Prometheus metrics, written once for every transport.
//
// A server's calls are counted by a decorator over bank.Bank (Server.Bank):
// calls by transport, operation and code, their latency, the calls in
// progress. Its connections and bytes are counted below every transport,
// on its listener (Wire): what crossed the wire, TLS records included.
// A client's layers report through resilience.Hooks (Client.Hooks):
// attempts by code, retries, calls given up and why (the retry budget
// among the reasons), breaker transitions and breakers open; Client.Bank
// counts the logical calls the caller made, and their latency.
//
// Handler serves a registry's metrics in Prometheus's text format;
// Listen serves it on an address of its own (the -metrics flag of every
// server program, of the load generator and of the cluster).
//
// # The metrics
//
//	igbank_server_calls_total{transport,op,code}           counter
//	igbank_server_call_duration_seconds{transport,op}      histogram
//	igbank_server_calls_in_flight{transport,op}            gauge
//	igbank_server_connections_open{transport}              gauge
//	igbank_server_connections_total{transport}             counter
//	igbank_server_bytes_total{transport,direction}         counter (in, out)
//	igbank_client_calls_total{transport,op,code}           counter
//	igbank_client_call_duration_seconds{transport,op}      histogram
//	igbank_client_attempts_total{transport,op,code}        counter
//	igbank_client_retries_total{transport,op}              counter
//	igbank_client_giveups_total{transport,op,reason}       counter
//	igbank_client_breaker_transitions_total{transport,to}  counter
//	igbank_client_breakers_open{transport}                 gauge
//
// code is bank.Code's name ("ok", "not_found", ...), op bank.Op's
// ("balance", "statement", "deposit"), reason resilience.GiveUp's. Labels
// take only these fixed sets of values, so no input can make the series
// grow: an account, a key or a peer address is never a label.
package metrics
