// Package netrpcbank serves and calls the IGBank service over Go's net/rpc
// with gob, the standard library's analogue of Java RMI: a remote object
// (the IGBank service) whose exported methods a client calls by name.
//
// The service is registered as "IGBank" with the methods Balance,
// Statement and Deposit, each taking an argument struct and filling a
// reply struct (BalanceArgs/BalanceReply and so on). A plain rpc.Dial
// client can call it; Client adds what net/rpc lacks:
//
//   - Typed errors. net/rpc carries an error as a bare string, so the
//     server writes "igbank:<code>:<message>" (EncodeError) and the client
//     turns it back into a *bank.Error (DecodeError, bank.FromCode).
//     Failures of the connection itself (rpc.ErrShutdown, io errors)
//     become bank.ErrUnavailable, or the caller's deadline or cancellation.
//   - Deadlines. net/rpc has no context: the client starts a call with
//     rpc.Client.Go and waits for the reply or the end of the context,
//     whichever comes first. An abandoned call still runs on the server
//     and its late reply is discarded. The time left is sent in the
//     arguments (Timeout) so that the server bounds its own work by it.
//   - Reconnection: a small pool of connections, replaced when broken.
//   - TLS (WithTLS, WithClientTLS; ALPN "igbank-netrpc/1") and
//     authentication: a connection's caller is its client certificate's
//     subject (mutual TLS), or the principal of the bearer token the
//     client binds to the connection with IGBank.Authenticate, its first
//     call (WithToken, WithTokens): net/rpc has no metadata to carry a
//     credential with each call.
//
// Server adds to net/rpc's server a connection limit with admission
// (common/admit), first-request, idle, read and write timeouts, a request size
// limit, a limit on calls in flight per connection, recovery from panics,
// and a graceful Shutdown. See README.md for the wire details.
package netrpcbank
