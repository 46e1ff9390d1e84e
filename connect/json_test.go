package connectbank

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/igbank/igbank/proto/igbankv1"
)

// FuzzStrictJSON: the handler's JSON codec never panics, and accepts only
// what protojson (refusing unknown members) accepts, read the same. (What
// it refuses beyond that is TestJSONRule's.)
func FuzzStrictJSON(f *testing.F) {
	for _, s := range []string{
		`{"account":"000000003","amountCents":"250","idempotencyKey":"k"}`,
		`{"account":"000000003","amountCents":250}`, `{"amountCents":1e2}`, `{"amountCents":"1e2"}`,
		`{"amount_cents":"7"}`, `{"amountCents":100.0}`, `{"amountCents":"10\u0030"}`, `{"x":1}`, `[]`, ``, `{`,
		`{"amountCents":{"a":1}}`, `{"amountCents":[1]}`, `{"amountCents":null}`, `{"amountCents":"-0"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got igbankv1.DepositRequest
		if err := (strictJSON{"json"}).Unmarshal(body, &got); err != nil {
			return
		}
		var want igbankv1.DepositRequest
		if err := protojson.Unmarshal(body, &want); err != nil || !proto.Equal(&got, &want) {
			t.Fatalf("strictJSON accepted %q as %v; protojson: %v, %v", body, &got, &want, err)
		}
	})
}
