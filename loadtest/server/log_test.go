package server

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/igbank/igbank/common/logs"
)

// TestServeLogJSON runs "loadtest serve" (this test binary in serve mode)
// with -log-format json: its ready and shutdown lines are JSON objects
// with the keys of package logs, and the ready line still says "ready on".
func TestServeLogJSON(t *testing.T) {
	c := DefaultConfig()
	c.Transport, c.Accounts, c.Log = "raw", 10, logs.Flags{Format: "json"}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"serve"}, c.Args()...)...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	record := func(want string) map[string]any {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("standard error ended before %q", want)
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("line %q is not JSON: %v", line, err)
			}
			if msg, _ := rec["msg"].(string); !strings.Contains(msg, want) || rec[logs.Transport] != "raw" {
				t.Fatalf("line %q: want %q and %s raw", line, want, logs.Transport)
			}
			return rec
		case <-time.After(20 * time.Second):
			t.Fatalf("no %q in 20 s", want)
		}
		return nil
	}
	ready := record("ready on")
	if a, _ := ready[logs.Addr].(string); !strings.HasPrefix(a, "127.0.0.1:") || !strings.Contains(ready["msg"].(string), a) {
		t.Errorf("ready line %v: %s", ready, logs.Addr)
	}
	if ready[logs.Accounts] != float64(10) {
		t.Errorf("ready line %v: %s", ready, logs.Accounts)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	record("shutting down")
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
}
