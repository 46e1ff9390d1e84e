package bank_test

import (
	"errors"
	"testing"

	"github.com/igbank/igbank/common/bank"
)

// FuzzValidate feeds any string to the validators a server runs on
// untrusted input: none may panic, each either accepts or returns
// InvalidArgument, and what they accept has the documented form.
//
//	cd common && go test -run '^$' -fuzz FuzzValidate -fuzztime 60s ./bank/
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"", "000000001", "2026-02", "2026-13", "key-1", "a b", "\x00", "é", "9999-12", "0000-00", "+002-01", "000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := bank.ValidateKey(s); err == nil {
			if len(s) < 1 || len(s) > bank.MaxKeyLen {
				t.Fatalf("ValidateKey accepted a %d-byte key", len(s))
			}
			for i := 0; i < len(s); i++ {
				if s[i] < 0x21 || s[i] > 0x7e {
					t.Fatalf("ValidateKey accepted %q", s)
				}
			}
		} else if !errors.Is(err, bank.ErrInvalidArgument) {
			t.Fatalf("ValidateKey(%q) = %v", s, err)
		}

		if err := bank.ValidateAccount(bank.AccountNo(s)); err == nil {
			if len(s) != bank.AccountNoLen {
				t.Fatalf("ValidateAccount accepted %q", s)
			}
			for i := 0; i < len(s); i++ {
				if s[i] < '0' || s[i] > '9' {
					t.Fatalf("ValidateAccount accepted %q", s)
				}
			}
		} else if !errors.Is(err, bank.ErrInvalidArgument) {
			t.Fatalf("ValidateAccount(%q) = %v", s, err)
		}

		m := bank.Month(s)
		start, end, err := m.Range()
		if err != nil {
			if !errors.Is(err, bank.ErrInvalidArgument) {
				t.Fatalf("Range(%q) = %v", s, err)
			}
			return
		}
		if len(s) != 7 || bank.MonthOf(start) != m || !end.Equal(start.AddDate(0, 1, 0)) || !start.Before(end) {
			t.Fatalf("Range(%q) = %v, %v", s, start, end)
		}
		if start.Day() != 1 || start.Hour() != 0 || start.Minute() != 0 || start.Nanosecond() != 0 {
			t.Fatalf("Range(%q) starts at %v", s, start)
		}
	})
}
