package restbank

import (
	"strings"

	"github.com/igbank/igbank/common/bank"
)

// parseKey reads an Idempotency-Key header value in either form a client
// may send:
//
//   - the IETF draft's (draft-ietf-httpapi-idempotency-key-header), a
//     structured-field String (RFC 9651, section 3.3.3): `"k1"`, between
//     double quotes, where `\"` and `\\` are the only escapes and every
//     other character is printable ASCII (0x20–0x7E);
//   - a bare token, taken verbatim: `k1`.
//
// So `"k1"` and `k1` are the same key, and a client that follows the draft
// and one that does not replay each other's deposits. A value that begins
// with a double quote is a String: if it is not a well-formed one (no
// closing quote, characters after it, another escape, a control or
// non-ASCII byte) it is invalid_argument, and nothing is applied. The key
// itself is then checked by the service (1 to 255 characters of
// 0x21–0x7E: a String holding a space is refused there).
func parseKey(v string) (string, error) {
	if !strings.HasPrefix(v, `"`) {
		return v, nil
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\':
			i++
			if i == len(v) || (v[i] != '"' && v[i] != '\\') {
				return "", bank.Errorf(bank.InvalidArgument, "Idempotency-Key %q: a structured-field string escapes only \\\" and \\\\", clipKey(v))
			}
			b.WriteByte(v[i])
		case c == '"':
			if i != len(v)-1 {
				return "", bank.Errorf(bank.InvalidArgument, "Idempotency-Key %q: characters after the closing quote of a structured-field string", clipKey(v))
			}
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", bank.Errorf(bank.InvalidArgument, "Idempotency-Key %q: a structured-field string holds printable ASCII only", clipKey(v))
		default:
			b.WriteByte(c)
		}
	}
	return "", bank.Errorf(bank.InvalidArgument, "Idempotency-Key %q: a structured-field string without its closing quote", clipKey(v))
}

// clipKey keeps an error message about a key short.
func clipKey(v string) string {
	if len(v) > 64 {
		return v[:64] + "…"
	}
	return v
}
