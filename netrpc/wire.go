package netrpcbank

import (
	"strings"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// ServiceName is the name the service is registered under with net/rpc;
// its methods are called as "IGBank.Balance", "IGBank.Statement",
// "IGBank.Deposit", "IGBank.Authenticate" and "IGBank.Health".
const ServiceName = "IGBank"

// The net/rpc method names, as a client passes them to rpc.Client.Call.
const (
	MethodBalance   = ServiceName + ".Balance"
	MethodStatement = ServiceName + ".Statement"
	MethodDeposit   = ServiceName + ".Deposit"
	// MethodAuthenticate binds a bearer token's principal to the
	// connection it is called on (AuthenticateArgs).
	MethodAuthenticate = ServiceName + ".Authenticate"
	// MethodHealth asks whether the server is serving (HealthReply).
	MethodHealth = ServiceName + ".Health"
)

// The argument and reply structs travel as gob. Every argument carries
// Timeout: net/rpc has no context and sends no deadline, so the client puts
// the time its caller has left here and the server bounds its work by it
// (zero means the caller set no deadline; the server then applies its own
// maximum, see WithMaxCallTimeout).

// BalanceArgs are the arguments of IGBank.Balance.
type BalanceArgs struct {
	Account bank.AccountNo
	Timeout time.Duration
}

// BalanceReply is the reply of IGBank.Balance.
type BalanceReply struct {
	Balance bank.Money
}

// StatementArgs are the arguments of IGBank.Statement.
//
// PageSize and PageToken came with paged statements (gob leaves a field
// the sender does not know at its zero value: an older client gets the
// first page of DefaultPageSize); the reply's Statement carries
// NextPageToken the same way.
type StatementArgs struct {
	Account   bank.AccountNo
	Month     bank.Month
	Timeout   time.Duration
	PageSize  int
	PageToken string
}

// StatementReply is the reply of IGBank.Statement.
type StatementReply struct {
	Statement bank.Statement
}

// DepositArgs are the arguments of IGBank.Deposit.
type DepositArgs struct {
	Request bank.DepositRequest
	Timeout time.Duration
}

// DepositReply is the reply of IGBank.Deposit.
type DepositReply struct {
	Receipt bank.DepositReceipt
}

// AuthenticateArgs are the arguments of IGBank.Authenticate. net/rpc has
// no metadata to carry a credential with each call, so a client with a
// bearer token calls IGBank.Authenticate once, as the first call on each
// connection, and waits for its reply before it sends another: the
// principal the token names is then the caller of every later call on that
// connection (the connection's client certificate, with mutual TLS, is the
// caller otherwise). A connection authenticates at most once.
//
// The reply, or the error, says what the server settled:
//
//   - a reply: the token names a principal, AuthenticateReply.Principal;
//   - igbank:unauthenticated: the token is refused (malformed, expired,
//     signed by another key, or the server takes no tokens), and every
//     later call on the connection is unauthenticated, whatever its
//     client certificate says;
//   - igbank:invalid_argument: the token is empty, or the connection has
//     authenticated already; nothing changes.
//
// A server older than this method answers "rpc: can't find method
// IGBank.Authenticate", which Client reports as unauthenticated.
type AuthenticateArgs struct {
	Token string
}

// AuthenticateReply is the reply of IGBank.Authenticate: the principal
// bound to the connection. (gob cannot send a struct without fields.)
type AuthenticateReply struct {
	Principal string
}

// HealthArgs are the arguments of IGBank.Health, which needs no principal
// and no IGBank.Authenticate. (gob cannot send a struct without fields, so
// it carries the Timeout every request carries.)
type HealthArgs struct {
	Timeout time.Duration
}

// HealthReply is the reply of IGBank.Health: Status is 1 (SERVING) or 2
// (NOT_SERVING: the server's Shutdown has begun), the values of
// transport.HealthStatus and of grpc.health.v1. A server older than the
// method answers "rpc: can't find method IGBank.Health", which Client
// reports as internal.
type HealthReply struct {
	Status int
}

// ErrorPrefix starts every error string the server sends. net/rpc carries
// a failed call's error as a bare string (rpc.ServerError), so the code
// travels inside it:
//
//	igbank:<code>:<message>
//
// where <code> is the code's stable name (bank.Code.String, such as
// "not_found") and <message> is the rest of the string, possibly empty and
// possibly containing colons. For example
//
//	igbank:not_found:account 000000101 does not exist
const ErrorPrefix = "igbank:"

// EncodeError returns the error string the server sends for err.
func EncodeError(err error) string {
	code := bank.CodeOf(err)
	if code == bank.OK {
		code = bank.Internal // a non-nil error must not read as success
	}
	return ErrorPrefix + code.String() + ":" + bank.Detail(err)
}

// DecodeError turns an error string that follows the convention back into
// the typed bank error (bank.FromCode). A code name this client does not
// know, from a newer server, becomes Internal with the name in the message.
// ok is false if s does not follow the convention at all.
func DecodeError(s string) (err error, ok bool) {
	rest, found := strings.CutPrefix(s, ErrorPrefix)
	if !found {
		return nil, false
	}
	name, msg, found := strings.Cut(rest, ":")
	if !found || name == "" {
		return nil, false
	}
	code, known := bank.ParseCode(name)
	switch {
	case !known:
		return bank.Errorf(bank.Internal, "unknown error code %q: %s", name, msg), true
	case code == bank.OK:
		return bank.Errorf(bank.Internal, "server sent an error with code ok: %s", msg), true
	}
	return bank.FromCode(code, msg), true
}
