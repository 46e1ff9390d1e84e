// Package connectbank is the Connect transport of IGBank
// (connectrpc.com/connect): a net/http server that serves any bank.Bank as
// the igbank.v1.BankService of proto/igbank/v1/bank.proto in the
// Connect, gRPC and gRPC-Web protocols on one port, over HTTP/1.1 and
// unencrypted HTTP/2 (h2c), and a client that is a bank.Bank and speaks
// any of the three.
//
// With WithTLS the server speaks TLS instead, with HTTP/2 and HTTP/1.1
// negotiated by ALPN, client certificates when its config has client CAs
// (mutual TLS), and bearer tokens in the Authorization header
// (WithTokens); the client's WithClientTLS and WithToken are the other
// side. The server only authenticates: it puts the caller's principal in
// the call's context (auth.Authenticate) for auth.Authorize to judge.
//
// The messages are the grpc module's (package igbankv1), and so is the
// error mapping (package pbbank): bank errors travel as Connect codes
// (numerically gRPC's) with a google.rpc.ErrorInfo detail naming the bank's
// code, so every client, Connect or gRPC, restores the exact typed error.
//
// Balance and Statement are side-effect free (NO_SIDE_EFFECTS in the
// .proto), so a Connect client can call them with HTTP GET, and so can curl;
// see README.md.
package connectbank
