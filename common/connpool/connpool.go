// Package connpool is the client connection pool the TCP transports share
// (raw-sockets, netrpc, thrift, and the load generator's TCP ping-pong
// reference). It dials, keeps and redials connections; it knows nothing of
// what runs over them, and returns plain errors (the context's, ErrClosed,
// the dial's), which each transport maps to its bank errors itself.
//
// It has two modes, for the two kinds of connection a transport can have:
//
//   - Shared, for multiplexed connections, where many calls are in flight
//     on one connection at a time (raw-sockets by request id, net/rpc by
//     sequence number). The pool has a fixed number of slots, picked
//     round robin, each holding one connection that every call picking
//     the slot shares. A slot dials on first use, one caller at a time:
//     the others wait for that dial or for their own context. A
//     connection that broke is replaced on a later call, either because
//     the caller dropped it (Slot.Drop) or because the pool's Broken
//     function says so.
//
//   - Exclusive, for connections that carry one call at a time (a
//     generated Thrift client, the ping-pong). Each call borrows a
//     connection of its own (Get) and gives it back (Put), or closes it
//     (Discard) when it can serve no other call. An idle connection is
//     lent if there is one, else a new one is dialed while fewer than Max
//     exist, else the call waits, within its context, for one to be given
//     back or for room to dial. Max <= 0 means no limit: a call never
//     waits.
//
// Close differs as the modes do: a Shared pool closes its connections at
// once (calls in flight on them fail), an Exclusive one closes its idle
// connections at once and each lent one when it is given back. After
// Close, Get fails with ErrClosed. In both modes Get looks at its context
// only to wait or to dial, and getting a connection that exists takes no
// allocation.
package connpool

import (
	"context"
	"errors"
)

// ErrClosed is returned by Get once the pool is closed, and by a dial that
// completes after Close (its connection is closed at once).
var ErrClosed = errors.New("connpool: pool closed")

// isContextError tells whether err is (or wraps) a context's error: a dial
// that ended that way failed because its caller's context ended, which
// says nothing to a caller whose context has not.
func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
