// Package bank is the IGBank contract shared by every transport: the Bank
// interface, its value types, the typed errors that every transport carries
// across the wire and restores on the client, and the input validation every
// server applies before touching a ledger.
//
// Money is always an integer number of cents. A transport encodes it as an
// integer; formatting such as "220.77" happens only at the edges
// (Money.String).
//
// A statement comes in pages (StatementRequest, Statement.NextPageToken,
// ReadStatement): at most MaxPageSize transactions a page, so that no reply
// of any transport outgrows its limit, with an opaque page token bound to
// the account and month (pagetoken.go).
//
// Errors carry a Code from a small fixed set. A transport maps each code to
// its native form (a gRPC status, an HTTP status with problem+json, a Thrift
// exception, a status byte) and its client maps it back with FromCode, so
// that errors.Is(err, bank.ErrNotFound) holds whichever transport is
// underneath.
package bank
