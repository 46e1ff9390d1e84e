// Package rawbank serves and calls IGBank over a hand-written binary
// protocol on TCP: the baseline that the frameworks in the other modules are
// measured against. PROTOCOL.md in this folder is its specification.
//
// Each frame is length-prefixed, versioned, checksummed with CRC-32C and
// carries a request id, so many calls are in flight on one connection and
// replies come back in any order; errors travel as a bank.Code status byte,
// and the caller's deadline travels as a timeout so the server stops work
// nobody waits for.
//
// NewServer serves any bank.Bank on a net.Listener: one reading goroutine
// per connection, calls on reusable per-connection workers, replies
// coalesced into few writes,
// idle/read/write timeouts, a connection limit, frame size limits, recovery
// from panics and graceful Shutdown. A bad frame gets a Goodbye frame and
// the end of that connection only.
//
// Both sides speak plaintext or TLS (WithTLS, WithClientTLS; ALPN
// "igbank-raw/1"). A connection's caller is its client certificate's
// subject (mutual TLS), or the principal of the bearer token a client sends
// in the Auth op as the connection's first request (WithToken, WithTokens;
// protocol revision 1.1). The server authenticates once per connection and
// puts the caller in every call's context (auth.Authenticate);
// auth.Authorize decides.
//
// Dial returns a Client, a bank.Bank safe for concurrent use, that spreads
// calls over a small pool of connections, honours context deadlines and
// cancellation, reconnects after a broken connection and turns every failure
// into a typed bank error.
package rawbank
