package fault_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/process"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want fault.Spec
		out  string
	}{
		{"", fault.Spec{}, "none"},
		{"none", fault.Spec{}, "none"},
		{"crash-after-apply", fault.Spec{Kind: fault.CrashAfterApply}, "crash-after-apply"},
		{"crash-before-apply:3", fault.Spec{Kind: fault.CrashBeforeApply, Nth: 3}, "crash-before-apply:3"},
		{"crash-after-apply:p=0.25,seed=7", fault.Spec{Kind: fault.CrashAfterApply, P: 0.25, Seed: 7}, "crash-after-apply:p=0.25,seed=7"},
		{"crash-after-apply:p=1", fault.Spec{Kind: fault.CrashAfterApply, P: 1}, "crash-after-apply:p=1,seed=0"},
	} {
		got, err := fault.Parse(tc.in)
		if err != nil || got != tc.want || got.String() != tc.out {
			t.Errorf("Parse(%q) = %+v (%s), %v; want %+v (%s)", tc.in, got, got, err, tc.want, tc.out)
		}
		if again, err := fault.Parse(got.String()); err != nil || again != got {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
	for _, bad := range []string{"crash", "crash-after-apply:0", "crash-after-apply:-1", "crash-after-apply:p=2", "crash-after-apply:p=0", "crash-after-apply:seed=3", "crash-after-apply:q=1", "crash-after-apply:x"} {
		if p, err := fault.Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, p)
		}
	}
}

func deposit(s bank.Bank, key string) (bank.DepositReceipt, error) {
	return s.Deposit(context.Background(), bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 7, IdempotencyKey: key})
}

// TestInProcess runs both kinds with a Die that only records: the Nth
// deposit is applied or not as the kind says, and everything after the
// death fails with ErrDead.
func TestInProcess(t *testing.T) {
	for _, tc := range []struct {
		kind    fault.Kind
		applied int // deposits in the ledger after the third
	}{{fault.CrashBeforeApply, 2}, {fault.CrashAfterApply, 3}} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			b := bank.NewService(ledger.NewMemory(1))
			died := 0
			s := fault.Wrap(b, fault.Spec{Kind: tc.kind, Nth: 3}.Plan(), nil, func() { died++ })
			for i, key := range []string{"a", "b", "c", "d"} {
				_, err := deposit(s, key)
				if (i < 2) != (err == nil) {
					t.Fatalf("deposit %d: %v", i+1, err)
				}
				if i >= 2 && (!errors.Is(err, fault.ErrDead) || bank.CodeOf(err) != bank.Unavailable) {
					t.Fatalf("deposit %d: %v, want ErrDead (unavailable)", i+1, err)
				}
			}
			if _, err := s.Balance(context.Background(), ledger.SeedAccount(1)); !errors.Is(err, fault.ErrDead) {
				t.Fatalf("balance after death: %v", err)
			}
			if died != 1 || !s.Dead() || s.Deposits() != 3 {
				t.Fatalf("died %d times, dead %v, %d deposits; want 1, true, 3", died, s.Dead(), s.Deposits())
			}
			if m, _ := b.Balance(context.Background(), ledger.SeedAccount(1)); m != ledger.SeedBalance(1)+bank.Money(7*tc.applied) {
				t.Fatalf("balance %d, want %d deposits applied", m, tc.applied)
			}
		})
	}
}

// TestProbabilityIsSeeded checks that p=P,seed=S strikes on the same
// deposit every time.
func TestProbabilityIsSeeded(t *testing.T) {
	first := func() int64 {
		s := fault.Wrap(bank.NewService(ledger.NewMemory(1)), fault.Spec{Kind: fault.CrashAfterApply, P: 0.1, Seed: 42}.Plan(), nil, func() {})
		for i := range 1000 {
			deposit(s, "k"+string(rune('a'+i%26))+string(rune('a'+i/26)))
			if s.Dead() {
				return s.Deposits()
			}
		}
		return -1
	}
	a, b := first(), first()
	if a < 1 || a != b {
		t.Fatalf("died on deposit %d then %d; want the same deposit", a, b)
	}
}

const childEnv = "FAULT_TEST_CHILD"

// TestKill runs a process that dies by Kill on its second deposit into a
// file, and checks it was killed by SIGKILL with the deposit written.
func TestKill(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		s := fault.Wrap(bank.NewService(ledger.NewMemory(1)), fault.Spec{Kind: fault.CrashAfterApply, Nth: 2}.Plan(), nil, nil)
		for _, key := range []string{"a", "b", "c"} {
			if _, err := deposit(s, key); err != nil {
				os.Exit(3)
			}
			os.WriteFile(path, []byte(key), 0o600)
		}
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "progress")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v, want it killed", err)
	}
	if !process.Killed(err) {
		t.Fatalf("child ended with %v, want it killed by KillSelf", ee)
	}
	if got, _ := os.ReadFile(path); string(got) != "a" {
		t.Fatalf("child got as far as deposit %q, want it killed during the second", got)
	}
}
