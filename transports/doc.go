// Package transports is the list of IGBank's transports, and the home of
// the tests that run across them: what one transport's module cannot test
// alone because it takes two (a gRPC client against the Connect server)
// or all of them, and the clients in other languages of interop/ run
// against the real servers (TestForeignClients).
package transports
