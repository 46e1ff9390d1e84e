package resilience

import "testing"

// FuzzParseJitter: ParseJitter accepts exactly the four names, and String
// is its inverse.
func FuzzParseJitter(f *testing.F) {
	for _, s := range []string{"full", "equal", "decorrelated", "none", "", "Full", "full "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := ParseJitter(s)
		if err != nil {
			return
		}
		if j.String() != s {
			t.Fatalf("ParseJitter(%q) = %v, which prints as %q", s, j, j.String())
		}
	})
}
