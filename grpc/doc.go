// Package grpcbank is the gRPC transport of IGBank: a server that serves any
// bank.Bank as the igbank.v1.BankService of proto/igbank/v1/bank.proto
// with google.golang.org/grpc, and a client that is a bank.Bank.
//
// Bank errors travel as gRPC status codes with a google.rpc.ErrorInfo
// detail naming the bank's code (see package pbbank), so the client
// restores the exact typed error. The server also registers the standard
// health service (grpc.health.v1) and server reflection, so grpcurl and
// health probes work against it.
//
// With WithTLS the server speaks TLS (credentials.NewTLS, ALPN h2), with
// client certificates when its config has client CAs (mutual TLS), and
// checks bearer tokens sent as per-RPC credentials (WithTokens); the
// client's WithClientTLS and WithToken are the other side. The server only
// authenticates: an interceptor puts the caller's principal in the call's
// context (auth.Authenticate) for auth.Authorize to judge.
//
// The generated messages and stubs are in the proto module's package
// igbankv1, which the connect transport imports too.
package grpcbank
