package restbank

import (
	"strings"
	"testing"

	"github.com/igbank/igbank/common/bank"
)

func TestParseKey(t *testing.T) {
	for in, want := range map[string]string{
		`k1`:           "k1",
		`"k1"`:         "k1",
		`"a\"b"`:       `a"b`,
		`"a\\b"`:       `a\b`,
		`""`:           "", // empty: the service refuses it
		`"with space"`: "with space",
		`k"1"`:         `k"1"`, // a bare token is verbatim
	} {
		got, err := parseKey(in)
		if err != nil || got != want {
			t.Errorf("parseKey(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`"k1`, `"`, `"k1"x`, `"k1" `, `"a\b"`, `"a\`, "\"a\tb\"", "\"a\x7fb\"", "\"é\""} {
		if got, err := parseKey(in); !errorsIsInvalid(err) {
			t.Errorf("parseKey(%q) = %q, %v; want invalid_argument", in, got, err)
		}
	}
}

func errorsIsInvalid(err error) bool { return bank.CodeOf(err) == bank.InvalidArgument && err != nil }

// FuzzParseKey: parseKey never panics; a bare value comes back verbatim;
// a String that parses is, escaped again, the value sent; one that does
// not is invalid_argument.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{`k1`, `"k1"`, `"a\"b\\c"`, `"`, `"a\b"`, `"x"y`, "\"\x00\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		k, err := parseKey(v)
		if !strings.HasPrefix(v, `"`) {
			if err != nil || k != v {
				t.Fatalf("bare %q: %q, %v", v, k, err)
			}
			return
		}
		if err != nil {
			if !errorsIsInvalid(err) {
				t.Fatalf("%q: %v, want invalid_argument", v, err)
			}
			return
		}
		esc := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(k) + `"`
		if esc != v {
			t.Fatalf("%q parsed as %q, which is sent as %q", v, k, esc)
		}
		for i := 0; i < len(k); i++ {
			if k[i] < 0x20 || k[i] > 0x7e {
				t.Fatalf("%q parsed as %q with byte %#x", v, k, k[i])
			}
		}
	})
}
