package process_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/process"
)

// childEnv makes the test binary act as a child process: "ready" writes
// a ready line to standard error and waits to be stopped, "fail" writes a
// line and exits 3, "die" kills itself after its ready line.
const childEnv = "PROCESS_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "ready":
		fmt.Fprintln(os.Stderr, "child ready on 127.0.0.1:1")
		time.Sleep(time.Minute)
		os.Exit(0)
	case "fail":
		fmt.Fprintln(os.Stderr, "child: cannot listen")
		os.Exit(3)
	case "die":
		fmt.Fprintln(os.Stderr, "child ready on 127.0.0.1:1")
		time.Sleep(20 * time.Millisecond)
		process.KillSelf()
	}
}

func child(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	return cmd
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStartWaitsForTheReadyLineAndKills(t *testing.T) {
	p, err := process.Start(testCtx(t), child("ready"), "ready on")
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() {
		t.Fatal("exited right after it said it was ready")
	}
	if !strings.Contains(p.Stderr(), "child ready on") {
		t.Fatalf("stderr %q lacks the ready line", p.Stderr())
	}
	p.Kill()
	if !p.Exited() || !p.Killed() || !process.Killed(p.Err()) {
		t.Fatalf("after Kill: exited %v, killed %v, err %v", p.Exited(), p.Killed(), p.Err())
	}
}

func TestStartFailsWithTheStderrOfAProcessThatExited(t *testing.T) {
	_, err := process.Start(testCtx(t), child("fail"), "ready on")
	if err == nil || !strings.Contains(err.Error(), "cannot listen") {
		t.Fatalf("Start = %v, want an error with the child's stderr", err)
	}
}

func TestStartGivesUpWithTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := process.Start(ctx, child("ready"), "a line it never writes"); err == nil {
		t.Fatal("Start returned without the ready line")
	}
}

func TestKillSelfIsKilled(t *testing.T) {
	p, err := process.Start(testCtx(t), child("die"), "ready on")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Err(); !process.Killed(err) {
		t.Fatalf("a process that called KillSelf ended with %v, not killed", err)
	}
}

// TestSupervisorRestarts: a killed process is started again, numbered, until
// the limit; Stop reports each end.
func TestSupervisorRestarts(t *testing.T) {
	ctx := testCtx(t)
	var modes []int
	s, err := process.Supervise(ctx, func(ctx context.Context, n int) (*process.Proc, error) {
		modes = append(modes, n)
		return process.Start(ctx, child("ready"), "ready on")
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		p := s.Current()
		p.Kill()
		deadline := time.Now().Add(10 * time.Second)
		for s.Current() == p && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if s.Current() == p {
			t.Fatalf("kill %d: no restart", i)
		}
	}
	s.Current().Kill() // the third start: the limit, so no fourth
	time.Sleep(100 * time.Millisecond)
	starts, ends, err := s.Stop()
	if err != nil || starts != 3 || len(ends) != 3 {
		t.Fatalf("Stop = %d starts, %v, %v; want 3 starts and 3 ends", starts, ends, err)
	}
	for i, e := range ends {
		if e.N != i+1 || !e.Killed {
			t.Fatalf("end %d = %+v, want start %d killed", i, e, i+1)
		}
	}
	if fmt.Sprint(modes) != "[1 2 3]" {
		t.Fatalf("start numbers %v", modes)
	}
}

// TestSupervisorStopLeavesTheCurrentRunning: Stop stops restarting; the
// current process is the caller's.
func TestSupervisorStopLeavesTheCurrentRunning(t *testing.T) {
	s, err := process.Supervise(testCtx(t), func(ctx context.Context, n int) (*process.Proc, error) {
		return process.Start(ctx, child("ready"), "ready on")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	starts, ends, err := s.Stop()
	if err != nil || starts != 1 || len(ends) != 0 || s.Current().Exited() {
		t.Fatalf("Stop = %d, %v, %v; current exited %v", starts, ends, err, s.Current().Exited())
	}
	s.Current().Kill()
}

// TestSupervisorRetriesAFailedStart: a start that fails is tried again.
func TestSupervisorRetriesAFailedStart(t *testing.T) {
	tries := 0
	s, err := process.Supervise(testCtx(t), func(ctx context.Context, n int) (*process.Proc, error) {
		tries++
		if tries < 3 {
			return nil, fmt.Errorf("address in use")
		}
		return process.Start(ctx, child("ready"), "ready on")
	}, 0)
	if err != nil || tries != 3 {
		t.Fatalf("Supervise = %v after %d tries", err, tries)
	}
	s.Stop()
	s.Current().Kill()
}
