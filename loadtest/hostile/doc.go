// Package hostile is the load generator's hostile suite: each class of
// attack that a peer on the network can mount on a server without a valid
// credential — idle connections, connection churn, unfinished and
// drip-fed requests, garbage, replies never read, and on HTTP/2 rapid
// resets, closed windows and unfinished streams — run against one
// transport's server through real sockets while a well-behaved client
// keeps calling it. Run reports whether that client was served during
// and after the attack, how the server's memory rose and came back, and
// how many of the attacker's connections the server cut.
//
// The attacker speaks each transport's own bytes without knowing them:
// Capture records what a real client of the transport writes for a
// balance and a statement, and the attacks replay, cut short or drip
// those bytes. The HTTP/2 attacks drive common/hostile's hand-written
// peer with gRPC-framed requests, which the gRPC and Connect servers both
// serve.
package hostile
