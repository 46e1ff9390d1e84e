package thriftbank

import (
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/thrift/gen/bankthrift"
)

// toException turns a bank error into the IDL's exception for its code,
// which the generated processor sends as a declared exception. Any other
// error is Internal. The exception's message is bank.Detail(err). A nil
// err gives a nil error (not a typed nil).
func toException(err error) error {
	if err == nil {
		return nil
	}
	msg := bank.Detail(err)
	switch bank.CodeOf(err) {
	case bank.NotFound:
		return &bankthrift.NotFound{Message: msg}
	case bank.InvalidArgument:
		return &bankthrift.InvalidArgument{Message: msg}
	case bank.IdempotencyKeyReuse:
		return &bankthrift.IdempotencyKeyReused{Message: msg}
	case bank.InFlight:
		return &bankthrift.InFlight{Message: msg}
	case bank.Unavailable:
		return &bankthrift.Unavailable{Message: msg}
	case bank.DeadlineExceeded:
		return &bankthrift.DeadlineExceeded{Message: msg}
	case bank.Unauthenticated:
		return &bankthrift.Unauthenticated{Message: msg}
	case bank.PermissionDenied:
		return &bankthrift.PermissionDenied{Message: msg}
	case bank.Canceled:
		return &bankthrift.Canceled{Message: msg}
	}
	return &bankthrift.Internal{Message: msg}
}

// fromException turns an exception declared in the IDL back into the
// typed bank error; ok is false for any other error.
func fromException(err error) (_ error, ok bool) {
	switch e := err.(type) {
	case *bankthrift.NotFound:
		return bank.FromCode(bank.NotFound, e.Message), true
	case *bankthrift.InvalidArgument:
		return bank.FromCode(bank.InvalidArgument, e.Message), true
	case *bankthrift.IdempotencyKeyReused:
		return bank.FromCode(bank.IdempotencyKeyReuse, e.Message), true
	case *bankthrift.InFlight:
		return bank.FromCode(bank.InFlight, e.Message), true
	case *bankthrift.Unavailable:
		return bank.FromCode(bank.Unavailable, e.Message), true
	case *bankthrift.DeadlineExceeded:
		return bank.FromCode(bank.DeadlineExceeded, e.Message), true
	case *bankthrift.Unauthenticated:
		return bank.FromCode(bank.Unauthenticated, e.Message), true
	case *bankthrift.PermissionDenied:
		return bank.FromCode(bank.PermissionDenied, e.Message), true
	case *bankthrift.Internal:
		return bank.FromCode(bank.Internal, e.Message), true
	case *bankthrift.Canceled:
		return bank.FromCode(bank.Canceled, e.Message), true
	}
	return nil, false
}

// Times travel as Unix nanoseconds; the zero time as 0.
func timeToWire(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromWire(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func statementToWire(st bank.Statement) *bankthrift.Statement {
	out := &bankthrift.Statement{
		Account:       string(st.Account),
		Month:         string(st.Month),
		Opening:       int64(st.Opening),
		Closing:       int64(st.Closing),
		Transactions:  make([]*bankthrift.Transaction, len(st.Transactions)),
		NextPageToken: st.NextPageToken,
	}
	txs := make([]bankthrift.Transaction, len(st.Transactions)) // one allocation for all
	for i, tx := range st.Transactions {
		txs[i] = bankthrift.Transaction{
			ID:             tx.ID,
			TimeUnixNano:   timeToWire(tx.Time),
			Amount:         int64(tx.Amount),
			BalanceAfter:   int64(tx.BalanceAfter),
			IdempotencyKey: tx.IdempotencyKey,
		}
		out.Transactions[i] = &txs[i]
	}
	return out
}

func statementFromWire(st *bankthrift.Statement) bank.Statement {
	if st == nil {
		return bank.Statement{}
	}
	out := bank.Statement{
		Account: bank.AccountNo(st.Account),
		Month:   bank.Month(st.Month),
		Opening: bank.Money(st.Opening),
		Closing: bank.Money(st.Closing),

		NextPageToken: st.NextPageToken,
	}
	if n := len(st.Transactions); n > 0 {
		out.Transactions = make([]bank.Transaction, 0, n)
	}
	for _, tx := range st.Transactions {
		if tx == nil {
			continue
		}
		out.Transactions = append(out.Transactions, bank.Transaction{
			ID:             tx.ID,
			Time:           timeFromWire(tx.TimeUnixNano),
			Amount:         bank.Money(tx.Amount),
			BalanceAfter:   bank.Money(tx.BalanceAfter),
			IdempotencyKey: tx.IdempotencyKey,
		})
	}
	return out
}
