package transport

import (
	"context"
	"net"

	"github.com/igbank/igbank/common/bank"
)

// Server serves a bank.Bank on listeners.
type Server interface {
	// Serve accepts connections on l until Shutdown is called, and then
	// returns nil. Any other return is an error of the listener.
	Serve(l net.Listener) error
	// Shutdown stops accepting, lets calls in progress finish until ctx
	// ends, then closes every connection. It returns ctx.Err() if calls
	// were cut off.
	Shutdown(ctx context.Context) error
}

// Client is a bank.Bank reached over a transport. It is safe for concurrent
// use; Close releases its connections.
type Client interface {
	bank.Bank
	Close() error
}

// NewServerFunc makes a transport's server for b.
type NewServerFunc func(b bank.Bank) Server

// DialFunc makes a transport's client for the server at addr.
type DialFunc func(ctx context.Context, addr string) (Client, error)
