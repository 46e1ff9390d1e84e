// Package pbbank converts between the bank contract and its protobuf form:
// bank values to and from the igbankv1 messages, and bank errors to and from
// gRPC status codes with a google.rpc.ErrorInfo detail. The grpc transport
// and the connect transport both use it (Connect's codes are gRPC's codes),
// so the mapping exists once.
package pbbank

import (
	"time"
	"unicode/utf8"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/proto/igbankv1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Limits of the protobuf transports (gRPC and Connect), the same on both.
const (
	// MaxRequestBytes is the largest request message a server accepts.
	// A deposit request is under 300 bytes; the rest is headroom for
	// reflection requests. A server may hold a buffer of this size for
	// every stream of a connection whose message has begun to arrive,
	// so it stays small (the HTTP/2 budget in the READMEs).
	MaxRequestBytes = 4 << 10
	// MaxResponseBytes is the largest response message a server sends
	// and a client accepts. The largest is a statement page: at most
	// bank.MaxPageSize transactions of the largest rows, about 450 KB
	// (transports' TestLongStatement), so no reply reaches it.
	MaxResponseBytes = 1 << 20
	// MaxConcurrentStreams bounds the calls in progress on one
	// connection: the minimum RFC 9113 recommends, above the 64 callers
	// the load generator multiplexes on one connection by default.
	MaxConcurrentStreams = 100
)

// StatementToProto converts a statement for the wire.
func StatementToProto(st bank.Statement) *igbankv1.StatementResponse {
	txs := make([]*igbankv1.Transaction, len(st.Transactions))
	// One backing array for all the messages: one allocation instead of n.
	backing := make([]igbankv1.Transaction, len(st.Transactions))
	stamps := make([]timestamppb.Timestamp, len(st.Transactions))
	for i, tx := range st.Transactions {
		stamps[i].Seconds, stamps[i].Nanos = tx.Time.Unix(), int32(tx.Time.Nanosecond())
		m := &backing[i]
		m.Id = tx.ID
		m.Time = &stamps[i]
		m.AmountCents = int64(tx.Amount)
		m.BalanceAfterCents = int64(tx.BalanceAfter)
		m.IdempotencyKey = tx.IdempotencyKey
		txs[i] = m
	}
	return &igbankv1.StatementResponse{
		Account:       string(st.Account),
		Month:         string(st.Month),
		OpeningCents:  int64(st.Opening),
		ClosingCents:  int64(st.Closing),
		Transactions:  txs,
		NextPageToken: st.NextPageToken,
	}
}

// StatementRequestToProto converts a statement request for the wire.
func StatementRequestToProto(req bank.StatementRequest) *igbankv1.StatementRequest {
	return &igbankv1.StatementRequest{
		Account:   string(req.Account),
		Month:     string(req.Month),
		PageSize:  bank.PageSize32(req.PageSize),
		PageToken: req.PageToken,
	}
}

// StatementRequestFromProto converts a statement request from the wire.
func StatementRequestFromProto(r *igbankv1.StatementRequest) bank.StatementRequest {
	return bank.StatementRequest{
		Account:   bank.AccountNo(r.GetAccount()),
		Month:     bank.Month(r.GetMonth()),
		PageSize:  int(r.GetPageSize()),
		PageToken: r.GetPageToken(),
	}
}

// StatementFromProto converts a statement from the wire. Times are UTC.
func StatementFromProto(r *igbankv1.StatementResponse) bank.Statement {
	st := bank.Statement{
		Account: bank.AccountNo(r.GetAccount()),
		Month:   bank.Month(r.GetMonth()),
		Opening: bank.Money(r.GetOpeningCents()),
		Closing: bank.Money(r.GetClosingCents()),

		NextPageToken: r.GetNextPageToken(),
	}
	if n := len(r.GetTransactions()); n > 0 {
		st.Transactions = make([]bank.Transaction, n)
		for i, tx := range r.GetTransactions() {
			ts := tx.GetTime()
			st.Transactions[i] = bank.Transaction{
				ID:             tx.GetId(),
				Time:           time.Unix(ts.GetSeconds(), int64(ts.GetNanos())).UTC(),
				Amount:         bank.Money(tx.GetAmountCents()),
				BalanceAfter:   bank.Money(tx.GetBalanceAfterCents()),
				IdempotencyKey: tx.GetIdempotencyKey(),
			}
		}
	}
	return st
}

// DepositRequestToProto converts a deposit request for the wire.
func DepositRequestToProto(req bank.DepositRequest) *igbankv1.DepositRequest {
	return &igbankv1.DepositRequest{
		Account:        string(req.Account),
		AmountCents:    int64(req.Amount),
		IdempotencyKey: req.IdempotencyKey,
	}
}

// DepositRequestFromProto converts a deposit request from the wire.
func DepositRequestFromProto(r *igbankv1.DepositRequest) bank.DepositRequest {
	return bank.DepositRequest{
		Account:        bank.AccountNo(r.GetAccount()),
		Amount:         bank.Money(r.GetAmountCents()),
		IdempotencyKey: r.GetIdempotencyKey(),
	}
}

// ReceiptToProto converts a deposit receipt for the wire.
func ReceiptToProto(r bank.DepositReceipt) *igbankv1.DepositResponse {
	return &igbankv1.DepositResponse{
		TransactionId: r.TransactionID,
		BalanceCents:  int64(r.Balance),
		Replayed:      r.Replayed,
	}
}

// ReceiptFromProto converts a deposit receipt from the wire.
func ReceiptFromProto(r *igbankv1.DepositResponse) bank.DepositReceipt {
	return bank.DepositReceipt{
		TransactionID: r.GetTransactionId(),
		Balance:       bank.Money(r.GetBalanceCents()),
		Replayed:      r.GetReplayed(),
	}
}

// CheckUTF8 returns an InvalidArgument error if any of the strings is not
// valid UTF-8. Protobuf refuses to marshal such a string field, so clients
// call this first to report bad input as bad input rather than as a
// transport failure.
func CheckUTF8(ss ...string) error {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return bank.Errorf(bank.InvalidArgument, "argument %q is not valid UTF-8", s)
		}
	}
	return nil
}
