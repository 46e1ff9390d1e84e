package grpcbank_test

import (
	"bufio"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/igbank/igbank/common/logs"
)

// TestServerLogFormat builds cmd/server and runs it with each
// -log-format: with json every line it writes is a JSON object, the ready
// line among them, with the keys of package logs; with text (the
// default) the ready line is key=value text. Both still contain "ready on
// ADDR", what scripts and tests wait for, and both log the shutdown.
func TestServerLogFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server")
	}
	bin := filepath.Join(t.TempDir(), "server")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(gobin, "build", "-o", bin, "./cmd/server").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/server: %v\n%s", err, out)
	}
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			srv := exec.Command(bin, "-addr", addr, "-accounts", "10", "-log-format", format, "-log-level", "debug")
			stderr, err := srv.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 16)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			next := func() string {
				select {
				case line, ok := <-lines:
					if !ok {
						t.Fatal("the server's standard error ended")
					}
					return line
				case <-time.After(20 * time.Second):
					t.Fatal("no line from the server in 20 s")
				}
				return ""
			}
			defer srv.Process.Kill()
			ready := next()
			if !strings.Contains(ready, "ready on "+addr) {
				t.Fatalf("first line %q lacks %q", ready, "ready on "+addr)
			}
			check := func(line string) {
				switch format {
				case "json":
					var rec map[string]any
					if err := json.Unmarshal([]byte(line), &rec); err != nil {
						t.Fatalf("line %q is not JSON: %v", line, err)
					}
					if rec[logs.Transport] != "grpc" || rec["level"] != "INFO" {
						t.Errorf("line %q: want %s grpc at level INFO", line, logs.Transport)
					}
				case "text":
					if !strings.Contains(line, "level=INFO") || !strings.Contains(line, logs.Transport+"=grpc") {
						t.Errorf("line %q: want level=INFO and %s=grpc", line, logs.Transport)
					}
				}
			}
			check(ready)
			for _, k := range []string{logs.Addr, logs.Accounts, logs.Store, logs.Security} {
				if !strings.Contains(ready, k) {
					t.Errorf("ready line %q lacks %q", ready, k)
				}
			}
			if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			down := next()
			if !strings.Contains(down, "shutting down") {
				t.Fatalf("line after SIGTERM %q lacks %q", down, "shutting down")
			}
			check(down)
			for range lines { // read to the end before Wait closes the pipe
			}
			if err := srv.Wait(); err != nil {
				t.Fatalf("server after SIGTERM: %v", err)
			}
		})
	}
}
