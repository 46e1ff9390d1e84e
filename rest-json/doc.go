// Package restbank serves and calls IGBank as REST resources over net/http
// with JSON:
//
//	GET  /v1/accounts/{acc}/balance            200 {"account":"000169990","balance":22077}
//	GET  /v1/accounts/{acc}/statements/{month} 200 the month's statement
//	POST /v1/accounts/{acc}/deposits           201 the receipt, Location of the transaction
//	GET  /openapi.json                         the OpenAPI 3.1 document (OpenAPI)
//
// Money is an integer number of cents in every body. A deposit's body is
// {"amount":N} and its Idempotency-Key header is required; a repeat of the
// key returns the stored response (same status, same body, same Location)
// with the header Idempotent-Replayed: true.
//
// Errors are RFC 9457 problem details (application/problem+json) whose
// "code" member is the bank error code's wire name; the Client maps it back
// with bank.FromCode, so errors.Is(err, bank.ErrNotFound) holds. The HTTP
// status follows the code: 400 invalid argument (also a malformed request
// or a missing key), 404 not found, 422 idempotency key reused, 409 in
// flight, 503 unavailable, 504 deadline exceeded (408 for a request body
// that did not arrive in time), 401 unauthenticated,
// 403 permission denied, 500 internal; a wrong method gets 405 with Allow.
// A 503 or 409 carries Retry-After: 1; a refusal of an overloaded server
// (common/shed) carries its hint instead, in whole seconds rounded up in
// Retry-After and to the millisecond in the member "retry_after_ms", which
// the Client returns as bank.RetryAfter. A 503 that is not IGBank's (a
// proxy's) gives its Retry-After header as the hint.
//
// Request bodies are decoded strictly, by the JSON rule Connect's JSON
// follows too (docs/architecture.md): unknown or duplicate members,
// trailing data, wrong types, fractions and exponents in the amount (a
// JSON integer, or a string of one), and bodies over WithMaxBodyBytes are
// 400 and change nothing. A body that does not arrive within the read
// timeout is 408, code deadline_exceeded. The server sets
// every http.Server timeout and MaxHeaderBytes, recovers handler panics as
// 500, and shuts down gracefully with http.Server.Shutdown.
//
// Deadlines: the Client sends the time its caller has left in a
// Request-Timeout header (whole milliseconds) and the server runs the call
// under that deadline, answering 504 when it passes. Independently, when
// the caller gives up the client closes the connection, which cancels the
// server-side context of the call.
//
// TLS (WithTLS): the server offers HTTP/2 and HTTP/1.1 by ALPN, its
// handshakes run in a tlsconf.Listener, and with client CAs it requires
// client certificates (mutual TLS). Callers authenticate by client
// certificate or by a bearer token in the Authorization header
// (WithTokens); the server only puts the principal in the call's context
// (auth.Authenticate), and auth.Authorize around the bank answers 401 or
// 403. The Client speaks HTTP/1.1 over TLS too (WithClientTLS) and sends
// its token (WithToken) only over TLS.
//
// The Client is a tuned http.Transport (keep-alive, up to
// DefaultMaxConnsPerHost connections kept idle, no gzip) used through
// RoundTrip directly: one call is one request on one connection.
package restbank
