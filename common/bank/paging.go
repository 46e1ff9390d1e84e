package bank

import "context"

// Page sizes of Statement. No page can outgrow a transport's reply limit:
// MaxPageSize transactions of the largest encoded size fit in the smallest
// limit (Thrift's 1 MiB frame) with room to spare; see docs/architecture.md,
// "Statements in pages".
const (
	// DefaultPageSize is the page size of a StatementRequest whose
	// PageSize is 0.
	DefaultPageSize = 100
	// MaxPageSize is the largest page a server returns: a request for more
	// is served MaxPageSize transactions (and a NextPageToken), not refused,
	// so that a client asking for "everything" still gets all of it, page by
	// page.
	MaxPageSize = 1000
)

// StatementQuery is a StatementRequest as a Ledger receives it: validated,
// its page size resolved and its page token decoded.
type StatementQuery struct {
	Account AccountNo
	Month   Month
	// After is the last transaction of the previous page; nil for the
	// first page. The page holds the month's transactions after it in
	// (Time, ID) order.
	After *Cursor
	// Limit is the page size, 1 to MaxPageSize. A Ledger returns up to
	// Limit+1 transactions: the one past Limit only tells the Service that
	// there is a next page, and is not returned to the client.
	Limit int
}

// ValidateStatement checks req (account, month, page size, and that the
// page token is well formed and was issued for this account and month)
// and returns it as a ledger query.
func ValidateStatement(req StatementRequest) (StatementQuery, error) {
	if err := ValidateAccount(req.Account); err != nil {
		return StatementQuery{}, err
	}
	if err := ValidateMonth(req.Month); err != nil {
		return StatementQuery{}, err
	}
	q := StatementQuery{Account: req.Account, Month: req.Month, Limit: req.PageSize}
	switch {
	case req.PageSize < 0:
		return StatementQuery{}, Errorf(InvalidArgument, "page size %d is negative", req.PageSize)
	case req.PageSize == 0:
		q.Limit = DefaultPageSize
	case req.PageSize > MaxPageSize:
		q.Limit = MaxPageSize
	}
	if req.PageToken == "" {
		return q, nil
	}
	t, err := DecodePageToken(req.PageToken)
	if err != nil {
		return StatementQuery{}, err
	}
	if t.Account != req.Account {
		return StatementQuery{}, Errorf(InvalidArgument, "page token was issued for another account, not %s", req.Account)
	}
	if t.Month != req.Month {
		return StatementQuery{}, Errorf(InvalidArgument, "page token was issued for month %s, not %s", t.Month, clip(string(req.Month)))
	}
	q.After = &t.After
	return q, nil
}

// page turns what a Ledger returned for q into the page for the client:
// at most q.Limit transactions, and the token of the next page if the
// ledger found more.
func page(st Statement, q StatementQuery) Statement {
	st.NextPageToken = ""
	if len(st.Transactions) > q.Limit {
		st.Transactions = st.Transactions[:q.Limit:q.Limit]
		last := st.Transactions[q.Limit-1]
		st.NextPageToken = EncodePageToken(PageToken{Account: q.Account, Month: q.Month, After: Cursor{Time: last.Time, ID: last.ID}})
	}
	return st
}

// ReadStatement returns the whole statement of req.Account for req.Month,
// reading it from b page by page (req.PageSize a page, starting at
// req.PageToken): the transactions of every page in order, the month's
// opening balance, and the closing balance of the last page read. A page
// that hands back the token it was asked with is Internal, not an endless
// loop.
func ReadStatement(ctx context.Context, b Bank, req StatementRequest) (Statement, error) {
	var all Statement
	for first := true; ; first = false {
		st, err := b.Statement(ctx, req)
		if err != nil {
			return Statement{}, err
		}
		if first {
			all = st
			all.Transactions = append([]Transaction(nil), st.Transactions...)
		} else {
			all.Transactions = append(all.Transactions, st.Transactions...)
			all.Closing = st.Closing
		}
		if st.NextPageToken == "" {
			all.NextPageToken = ""
			return all, nil
		}
		if st.NextPageToken == req.PageToken {
			return Statement{}, Errorf(Internal, "statement page repeats its own page token")
		}
		req.PageToken = st.NextPageToken
	}
}

// PageSize32 returns the page size n as a 32-bit wire field carries it
// with the same meaning: above MaxPageSize it is MaxPageSize (the server
// would serve that many), below zero it is -1 (still invalid). Clients of
// transports whose page size field is narrower than int use it.
func PageSize32(n int) int32 {
	switch {
	case n > MaxPageSize:
		return MaxPageSize
	case n < 0:
		return -1
	}
	return int32(n)
}
