package faults

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/loadtest/registry"
)

// TestCrashRandom kills the server on each deposit with probability 0.2
// (a seed per restart), three times, over raw, with and without keys.
func TestCrashRandom(t *testing.T) {
	tr, _ := registry.Lookup("raw")
	for _, ignoreKeys := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := runCrash(ctx, crashConfig{
			Transport:  tr,
			Store:      "sqlite:" + filepath.Join(t.TempDir(), "bank.db"),
			Fault:      fault.Spec{Kind: fault.CrashAfterApply, P: 0.2, Seed: 1},
			Crashes:    3,
			IgnoreKeys: ignoreKeys,
			Accounts:   3,
			Clients:    2,
			Deposits:   10,
		})
		if err != nil {
			t.Fatal(err)
		}
		a := res.Audit
		t.Logf("keys ignored %v: %d starts, %d SIGKILLs, %d attempts: %+v", ignoreKeys, res.Starts, res.Deaths, res.Attempts, a)
		if res.Deaths != 3 {
			t.Errorf("%d SIGKILLs, want 3", res.Deaths)
		}
		if ignoreKeys != (a.Duplicated > 0) || ignoreKeys == a.OK || a.Acknowledged != a.Attempted {
			t.Errorf("keys ignored %v: %+v", ignoreKeys, a)
		}
	}
}
