package thriftbank_test

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestCommands builds cmd/server and cmd/client and runs them as a user
// would, with the compact protocol.
func TestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands")
	}
	t.Parallel()
	dir := t.TempDir()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, name := range []string{"server", "client"} {
		if out, err := exec.Command(gobin, "build", "-o", filepath.Join(dir, name), "./cmd/"+name).CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, out)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	srv := exec.Command(filepath.Join(dir, "server"), "-addr", addr, "-protocol", "compact", "-accounts", "10")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		srv.Process.Kill()
		<-exited
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			if !found && strings.Contains(sc.Text(), "ready on "+addr) {
				found = true
				ready <- true
			}
		}
		if !found {
			ready <- false
		}
		exited <- srv.Wait()
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("server exited without its ready line")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server not ready after 20 s")
	}

	client := func(args ...string) (int, string) {
		cmd := exec.Command(filepath.Join(dir, "client"), append([]string{"-addr", addr}, args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-protocol", "compact", "health"}, 0, "SERVING"},
		{[]string{"-protocol", "compact", "balance", "000000001"}, 0, "account 000000001 balance"},
		{[]string{"-protocol", "compact", "deposit", "000000002", "150", "-key", "cmd-test"}, 0, "replayed false"},
		{[]string{"-protocol", "compact", "deposit", "000000002", "150", "-key", "cmd-test"}, 0, "replayed true"},
		{[]string{"-protocol", "compact", "balance", "000000011"}, 1, "not_found"},
		{[]string{"-protocol", "binary", "balance", "000000001"}, 5, "unavailable"}, // protocol mismatch
		{[]string{"-protocol", "json", "balance", "000000001"}, 64, "unknown protocol"},
	} {
		code, out := client(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("client %s: exit %d, output %q; want exit %d and %q", strings.Join(tc.args, " "), code, out, tc.code, tc.out)
		}
	}

	srv.Process.Signal(os.Interrupt)
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("server after SIGINT: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server still running 15 s after SIGINT")
	}
}
