package bank_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
)

func TestRetryAfter(t *testing.T) {
	base := bank.Errorf(bank.Unavailable, "overloaded")
	err := bank.WithRetryAfter(base, 250*time.Millisecond)
	if d, ok := bank.RetryAfter(err); !ok || d != 250*time.Millisecond {
		t.Fatalf("RetryAfter = %v, %v; want 250ms, true", d, ok)
	}
	if !errors.Is(err, bank.ErrUnavailable) || bank.CodeOf(err) != bank.Unavailable || err.Error() != base.Error() || bank.Detail(err) != "overloaded" {
		t.Fatalf("the hint changed the error: %v (code %v, detail %q)", err, bank.CodeOf(err), bank.Detail(err))
	}
	if bank.Wrap(bank.Internal, err) != err {
		t.Fatal("Wrap reclassified an error with a hint")
	}
	wrapped := fmt.Errorf("call: %w", err)
	if d, ok := bank.RetryAfter(wrapped); !ok || d != 250*time.Millisecond {
		t.Fatalf("RetryAfter through %%w = %v, %v", d, ok)
	}
	if _, ok := bank.RetryAfter(base); ok {
		t.Fatal("an error without a hint has one")
	}
	if d, _ := bank.RetryAfter(bank.WithRetryAfter(base, 100*time.Hour)); d != bank.MaxRetryAfter {
		t.Fatalf("a hint of 100h became %v, want MaxRetryAfter", d)
	}
	if bank.WithRetryAfter(nil, time.Second) != nil || bank.WithRetryAfter(base, 0) != base || bank.WithRetryAfter(base, -time.Second) != base {
		t.Fatal("WithRetryAfter of nil, or of no time, is not a no-op")
	}
}

// An overloaded server's refusal says when to try again; the retry layer
// waits at least that long.
func ExampleWithRetryAfter() {
	err := bank.WithRetryAfter(bank.Errorf(bank.Unavailable, "overloaded"), 40*time.Millisecond)
	d, ok := bank.RetryAfter(err)
	fmt.Println(errors.Is(err, bank.ErrUnavailable), d, ok)
	// Output: true 40ms true
}
