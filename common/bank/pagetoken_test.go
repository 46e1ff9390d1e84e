package bank_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

func TestPageTokenRoundTrip(t *testing.T) {
	for _, pt := range []bank.PageToken{
		{Account: "000000001", Month: "2026-11", After: bank.Cursor{Time: time.Date(2026, 11, 30, 23, 59, 59, 999999999, time.UTC), ID: 1}},
		{Account: "999999999", Month: "0001-01", After: bank.Cursor{Time: time.Unix(0, 0).UTC(), ID: 1<<63 - 1}},
		{Account: "000000000", Month: "9999-12", After: bank.Cursor{Time: time.Unix(0, -1).UTC(), ID: -5}},
	} {
		s := bank.EncodePageToken(pt)
		if len(s) != 38 || strings.ContainsAny(s, "+/=") {
			t.Fatalf("token %q is not 38 characters of unpadded base64url", s)
		}
		got, err := bank.DecodePageToken(s)
		if err != nil || got.Account != pt.Account || got.Month != pt.Month || !got.After.Time.Equal(pt.After.Time) || got.After.ID != pt.After.ID {
			t.Fatalf("DecodePageToken(EncodePageToken(%+v)) = %+v, %v", pt, got, err)
		}
	}
}

func TestValidateStatement(t *testing.T) {
	acc, month := bank.AccountNo("000000007"), bank.Month("2026-03")
	tok := func(pt bank.PageToken) string { return bank.EncodePageToken(pt) }
	good := tok(bank.PageToken{Account: acc, Month: month, After: bank.Cursor{Time: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), ID: 42}})
	flip := []byte(good)
	flip[10] ^= 'A' ^ 'B'
	if flip[10] == good[10] {
		flip[10] = 'C'
	}
	for _, tc := range []struct {
		name  string
		req   bank.StatementRequest
		limit int
		msg   string // in the error; "" for success
	}{
		{"default size", bank.StatementRequest{Account: acc, Month: month}, bank.DefaultPageSize, ""},
		{"size 1", bank.StatementRequest{Account: acc, Month: month, PageSize: 1}, 1, ""},
		{"clamped", bank.StatementRequest{Account: acc, Month: month, PageSize: 1 << 40}, bank.MaxPageSize, ""},
		{"token", bank.StatementRequest{Account: acc, Month: month, PageToken: good}, bank.DefaultPageSize, ""},
		{"negative size", bank.StatementRequest{Account: acc, Month: month, PageSize: -1}, 0, "negative"},
		{"garbage", bank.StatementRequest{Account: acc, Month: month, PageToken: "not a token"}, 0, "malformed"},
		{"too long", bank.StatementRequest{Account: acc, Month: month, PageToken: strings.Repeat("A", 100)}, 0, "more than"},
		{"truncated", bank.StatementRequest{Account: acc, Month: month, PageToken: good[:37]}, 0, "malformed"},
		{"flipped", bank.StatementRequest{Account: acc, Month: month, PageToken: string(flip)}, 0, "checksum"},
		{"other account", bank.StatementRequest{Account: "000000008", Month: month, PageToken: good}, 0, "another account"},
		{"other month", bank.StatementRequest{Account: acc, Month: "2026-04", PageToken: good}, 0, "month 2026-03"},
		{"unknown version", bank.StatementRequest{Account: acc, Month: month, PageToken: bank.TokenWithVersion(good, 2)}, 0, "version 2"},
	} {
		q, err := bank.ValidateStatement(tc.req)
		if tc.msg == "" {
			if err != nil || q.Limit != tc.limit || q.Account != acc || q.Month != month || (tc.req.PageToken != "") != (q.After != nil) {
				t.Errorf("%s: ValidateStatement = %+v, %v", tc.name, q, err)
			}
			continue
		}
		if !errors.Is(err, bank.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: ValidateStatement = %v; want invalid_argument mentioning %q", tc.name, err, tc.msg)
		}
	}
}

// FuzzPageToken feeds any string to the token decoder, which runs on
// untrusted input: it must not panic, must reject with InvalidArgument,
// and what it accepts must encode back to the same string.
//
//	cd common && go test -run '^$' -fuzz FuzzPageToken -fuzztime 60s ./bank/
func FuzzPageToken(f *testing.F) {
	good := bank.EncodePageToken(bank.PageToken{Account: "000000001", Month: "2026-11", After: bank.Cursor{Time: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), ID: 9}})
	for _, s := range []string{"", good, good[:37], good + "A", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "!!!", strings.Repeat("_", 38), bank.TokenWithVersion(good, 0)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pt, err := bank.DecodePageToken(s)
		if err != nil {
			if !errors.Is(err, bank.ErrInvalidArgument) {
				t.Fatalf("DecodePageToken(%q) = %v", s, err)
			}
			return
		}
		if bank.ValidateAccount(pt.Account) != nil || bank.ValidateMonth(pt.Month) != nil {
			t.Fatalf("DecodePageToken(%q) = %+v: invalid account or month", s, pt)
		}
		if back := bank.EncodePageToken(pt); back != s {
			t.Fatalf("DecodePageToken(%q) re-encodes as %q", s, back)
		}
		if _, err := bank.ValidateStatement(bank.StatementRequest{Account: pt.Account, Month: pt.Month, PageToken: s}); err != nil {
			t.Fatalf("ValidateStatement refused its own account's token %q: %v", s, err)
		}
	})
}

func TestReadStatement(t *testing.T) {
	clock := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	m := ledger.NewMemory(3, ledger.WithClock(func() time.Time { return clock }))
	b := bank.NewService(m)
	ctx := context.Background()
	acc := ledger.SeedAccount(3)
	for i := range 25 {
		if i%10 == 0 {
			clock = clock.Add(time.Hour) // groups of transactions share a time
		}
		if _, err := b.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: bank.Money(i + 1), IdempotencyKey: "k" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []int{0, 1, 7, 25, 26, bank.MaxPageSize + 1} {
		st, err := bank.ReadStatement(ctx, b, bank.StatementRequest{Account: acc, Month: "2026-02", PageSize: size})
		if err != nil || len(st.Transactions) != 25 || st.NextPageToken != "" {
			t.Fatalf("page size %d: ReadStatement = %d transactions, token %q, %v", size, len(st.Transactions), st.NextPageToken, err)
		}
		want := ledger.SeedBalance(3)
		if st.Opening != want {
			t.Fatalf("page size %d: opening %d, want %d", size, st.Opening, want)
		}
		for i, tx := range st.Transactions {
			want += tx.Amount
			if tx.Amount != bank.Money(i+1) || tx.BalanceAfter != want {
				t.Fatalf("page size %d: transaction %d = %+v", size, i, tx)
			}
		}
		if st.Closing != want {
			t.Fatalf("page size %d: closing %d, want %d", size, st.Closing, want)
		}
	}
	// A bank that keeps answering with the same token is an error, not a
	// loop without end.
	if _, err := bank.ReadStatement(ctx, loop{}, bank.StatementRequest{Account: acc, Month: "2026-02"}); !errors.Is(err, bank.ErrInternal) {
		t.Fatalf("ReadStatement over a looping bank = %v, want internal", err)
	}
}

type loop struct{ bank.Bank }

func (loop) Statement(_ context.Context, req bank.StatementRequest) (bank.Statement, error) {
	return bank.Statement{NextPageToken: "same"}, nil
}
