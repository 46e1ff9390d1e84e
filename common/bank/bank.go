package bank

import (
	"context"
	"fmt"
	"time"
)

// Bank is the IGBank service. Every transport's server serves a Bank and
// every transport's client is a Bank, so callers cannot tell which transport
// they hold.
type Bank interface {
	// Balance returns the current balance of acc.
	Balance(ctx context.Context, acc AccountNo) (Money, error)
	// Statement returns one page of the transactions of req.Account in
	// req.Month, with the balance before the month's first transaction and
	// after its last (the same on every page), and the token of the next
	// page in NextPageToken ("" on the last page). ReadStatement pages
	// through a whole month.
	Statement(ctx context.Context, req StatementRequest) (Statement, error)
	// Deposit adds req.Amount to req.Account exactly once per
	// req.IdempotencyKey; a repeat of the key returns the stored receipt
	// with Replayed set.
	Deposit(ctx context.Context, req DepositRequest) (DepositReceipt, error)
}

// Op names one of the operations of Bank, for whatever counts, plans or
// reports calls by operation (the retry layer's hooks, the fault plans,
// the load generator's workload).
type Op uint8

// The operations of Bank, in the order of its methods.
const (
	OpBalance Op = iota
	OpStatement
	OpDeposit
)

// NumOps is the number of operations, for arrays indexed by Op.
const NumOps = 3

var opNames = [NumOps]string{"balance", "statement", "deposit"}

// String returns "balance", "statement" or "deposit".
func (o Op) String() string {
	if o < NumOps {
		return opNames[o]
	}
	return "op?"
}

// Money is an amount in cents. It is never a float, anywhere.
type Money int64

// String formats m as units and cents, for example "220.77" or "-0.05".
func (m Money) String() string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign = "-"
		u = uint64(-m) // also right for math.MinInt64: two's complement
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// AccountNo is an account number: exactly nine decimal digits, such as
// "000169990".
type AccountNo string

// Month is a calendar month written "YYYY-MM".
type Month string

// Range returns the first instant of m and of the month after it, in UTC.
func (m Month) Range() (start, end time.Time, err error) {
	t, err := time.Parse("2006-01", string(m))
	if err != nil || len(m) != 7 {
		return time.Time{}, time.Time{}, Errorf(InvalidArgument, "month %q is not YYYY-MM", string(m))
	}
	return t, t.AddDate(0, 1, 0), nil
}

// MonthOf returns the month, in UTC, that t falls in.
func MonthOf(t time.Time) Month { return Month(t.UTC().Format("2006-01")) }

// Transaction is one entry of an account's ledger.
type Transaction struct {
	ID             int64     // unique within the ledger, increasing
	Time           time.Time // when the ledger applied it, UTC
	Amount         Money     // positive for a deposit
	BalanceAfter   Money     // the account's balance right after it
	IdempotencyKey string    // the key of the deposit that created it
}

// StatementRequest asks for one page of an account's statement for a
// month. PageSize 0 means DefaultPageSize; a PageSize above MaxPageSize is
// served as MaxPageSize; a negative one is InvalidArgument. PageToken is ""
// for the first page, or the NextPageToken of the previous page, unchanged:
// it is opaque, bound to Account and Month, and a token that is malformed,
// altered or issued for another account or month is InvalidArgument.
type StatementRequest struct {
	Account   AccountNo
	Month     Month
	PageSize  int
	PageToken string
}

// Statement is one page of an account's activity over one month. Opening
// and Closing are the month's, whichever page this is; Transactions are the
// page's, in time order (ties by ID).
type Statement struct {
	Account       AccountNo
	Month         Month
	Opening       Money // balance before the month's first transaction
	Closing       Money // balance after the month's last transaction
	Transactions  []Transaction
	NextPageToken string // "" on the last page
}

// DepositRequest asks for Amount to be added to Account. IdempotencyKey is
// required: a retry of the same logical deposit carries the same key.
type DepositRequest struct {
	Account        AccountNo
	Amount         Money
	IdempotencyKey string
}

// DepositReceipt is the outcome of a deposit. A replay of a key returns the
// receipt stored the first time, with Replayed set.
type DepositReceipt struct {
	TransactionID int64
	Balance       Money // the balance right after this deposit
	Replayed      bool
}
