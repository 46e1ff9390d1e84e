// Package fault makes the classic partial failures of a remote call happen
// on purpose, below every transport and inside the server, for the
// exactly-once tests and the partial-failure lab:
//
//   - a request lost before the server processed it (LoseRequest: nothing
//     is applied);
//   - a response lost after the server processed it (LoseResponse: the
//     client sees a broken connection and cannot know that its deposit
//     went through — the deposit-twice case);
//   - a server process that dies after reading a deposit, before applying
//     it (CrashBeforeApply), or after applying it, before answering
//     (CrashAfterApply).
//
// Two pieces work together. Listener wraps a server's listener: it can
// reset every connection it accepted, or swallow the next read or write
// on any of them and reset that connection. Bank is a server-side
// bank.Bank decorator that asks a Plan about every call and, at the
// precise moment the fault needs, resets the Listener's connections or
// dies. Because connections are closed, not single messages dropped, the
// faults are exact on multiplexed transports too: nothing of a lost
// response can reach the client, whatever framing the transport uses. It
// works on net.Listener and net.Conn, so raw TCP, net/rpc, HTTP/1.1,
// HTTP/2 (gRPC, Connect) and Thrift are all hit the same way and no
// transport is mocked.
//
// Plans are functions of the call (Random, FirstDepositOfEachKey), or
// written down as a Spec ("crash-after-apply:3", what "loadtest serve
// -fault" takes) so that a harness can hand one to a server process it
// starts. Dying is a function too: process.KillSelf in a server process
// (SIGKILL to itself, so that nothing is flushed or answered), anything that stops an
// in-process server in a test.
package fault
