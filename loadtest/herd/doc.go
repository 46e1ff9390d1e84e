// Package herd is the thundering-herd demo behind "loadtest herd": many
// clients whose calls failed together retry together. Run starts one transport's server on loopback,
// makes it answer every call with Unavailable for an outage, lets N clients
// make one Balance each at the moment the outage starts, and records when
// every attempt left its client. Run once per jitter mode, the attempts per
// 10 ms bucket show the synchronised waves of plain exponential backoff and
// the smoothed load of jittered backoff.
//
// The outage is a server-side decorator rather than a closed listener, so
// that every retry is a real call over the transport that the server
// receives and answers (a closed port would make the retries dial errors
// the server never sees). The server counts what it receives, and the
// report checks that against the clients' counts.
//
// Each client has its own resilience.Wrap (its own connection, its own
// jitter source) with the retry budget and the breaker turned off. The
// budget is meant to be shared by every call to one target; shared by the
// 200 clients it would be spent after about five failed attempts and turn
// every later call into a single attempt, and even one budget per client
// stops a client after five failures, before a one-second outage ends:
// either way it would hide the herd this command is meant to show. (That
// the budget bounds retries in an outage is shown by the outage scenario.)
//
// WriteText prints the figures per jitter mode, WriteHTML draws the
// attempts per bucket (package chart, package page), and WriteJSON saves
// the report (kind "herd"), which Decode reads back.
package herd
