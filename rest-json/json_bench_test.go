package restbank

import (
	"bytes"
	stdjson "encoding/json"
	"testing"
	"time"

	json "github.com/go-json-experiment/json"

	"github.com/igbank/igbank/common/bank"
)

// The choice of JSON code, measured: decoding a deposit body with
// go-json-experiment (what the server does) against encoding/json with the
// closest strictness it offers, and encoding a response by appending
// against encoding/json and go-json-experiment's reflection.
func BenchmarkDecodeDeposit(b *testing.B) {
	body := []byte(`{"amount":10000}`)
	b.Run("go-json-experiment", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := decodeDeposit(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var d depositBody
			dec := stdjson.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&d); err != nil || d.Amount == nil || dec.More() {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeStatement(b *testing.B) {
	st := bank.Statement{Account: "000000001", Month: "2026-11", Opening: 100, Closing: 400}
	for i := range 3 {
		st.Transactions = append(st.Transactions, bank.Transaction{ID: int64(i + 1), Time: time.Date(2026, 11, 21, 12, 0, i, 123456789, time.UTC),
			Amount: 100, BalanceAfter: bank.Money(200 + 100*i), IdempotencyKey: "key-" + string(rune('a'+i))})
	}
	wire := func() statementJSON {
		w := statementJSON{Account: string(st.Account), Month: string(st.Month), Opening: int64(st.Opening), Closing: int64(st.Closing),
			Transactions: make([]transactionJSON, len(st.Transactions))}
		for i, tx := range st.Transactions {
			w.Transactions[i] = transactionJSON{tx.ID, tx.Time, int64(tx.Amount), int64(tx.BalanceAfter), tx.IdempotencyKey}
		}
		return w
	}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for i := 0; i < b.N; i++ {
			buf = appendStatement(buf[:0], &st)
		}
	})
	b.Run("go-json-experiment", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := json.Marshal(wire()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := stdjson.Marshal(wire()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The appended statement is what encoding/json makes of the wire struct,
// so the client (and any other JSON reader) reads it back.
func TestAppendStatementMatchesEncodingJSON(t *testing.T) {
	st := bank.Statement{Account: "000000001", Month: "2026-11", Opening: -5, Closing: 95, Transactions: []bank.Transaction{
		{ID: 7, Time: time.Date(2026, 11, 21, 12, 0, 0, 5, time.FixedZone("x", 3600)), Amount: 100, BalanceAfter: 95, IdempotencyKey: `a"b\c<>&` + "\u2028\x01"},
	}}
	var got statementJSON
	if err := stdjson.Unmarshal(appendStatement(nil, &st), &got); err != nil {
		t.Fatal(err)
	}
	tx := got.Transactions[0]
	if got.Account != "000000001" || got.Month != "2026-11" || got.Opening != -5 || got.Closing != 95 || len(got.Transactions) != 1 ||
		tx.ID != 7 || !tx.Time.Equal(st.Transactions[0].Time) || tx.Amount != 100 || tx.BalanceAfter != 95 || tx.IdempotencyKey != st.Transactions[0].IdempotencyKey {
		t.Fatalf("read back %+v", got)
	}
	empty := appendStatement(nil, &bank.Statement{Account: "000000001", Month: "2001-01"})
	if want := `{"account":"000000001","month":"2001-01","opening":0,"closing":0,"transactions":[]}`; string(empty) != want {
		t.Fatalf("empty statement %s, want %s", empty, want)
	}
}
