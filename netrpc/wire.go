package netrpcbank

import (
	"strings"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// ServiceName is the name the service is registered under with net/rpc;
// its methods are called as "IGBank.Balance", "IGBank.Statement" and
// "IGBank.Deposit".
const ServiceName = "IGBank"

// The net/rpc method names, as a client passes them to rpc.Client.Call.
const (
	MethodBalance   = ServiceName + ".Balance"
	MethodStatement = ServiceName + ".Statement"
	MethodDeposit   = ServiceName + ".Deposit"
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
type StatementArgs struct {
	Account bank.AccountNo
	Month   bank.Month
	Timeout time.Duration
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
