// Package cluster runs IGBank servers as separate processes for the
// durability experiments: server replicas on a shared PostgreSQL behind a
// real load balancer (HAProxy), and servers killed with SIGKILL in the
// middle of a deposit load. Its tests are the crash-safety and replica
// tests; cmd/cluster starts a cluster by hand.
package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// lookup returns the transport and variant called name (a name of
// transports.Names, such as "grpc" or "thrift-compact").
func lookup(name string) (transport.Descriptor, transport.Variant, error) {
	d, v, ok := transports.Lookup(name)
	if !ok {
		return d, v, fmt.Errorf("cluster: unknown transport %q (known: %s)", name, strings.Join(transports.Names(), ", "))
	}
	return d, v, nil
}

// ServerArgs are the arguments that make the cmd/server of transport
// serve that variant: -protocol for a transport whose server speaks one
// protocol of several, nothing otherwise.
func ServerArgs(transport string) ([]string, error) {
	d, v, err := lookup(transport)
	if err != nil || !d.ServerProtocol {
		return nil, err
	}
	return []string{"-protocol", v.Protocol}, nil
}

// Build compiles the cmd/server of transport (any variant's name) into
// dir and returns the binary's path. It runs the go command of PATH inside
// the workspace.
func Build(ctx context.Context, dir, transport string) (string, error) {
	d, _, err := lookup(transport)
	if err != nil {
		return "", err
	}
	pkg := d.Module + "/cmd/server"
	bin := filepath.Join(dir, d.Name+"-server")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for a server that must come back on the same address.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Proc is a server process.
type Proc struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	log  strings.Builder
}

// Start runs bin -addr addr -store store -accounts accounts (plus extra
// arguments) and waits until it logs its ready line or ctx ends.
func Start(ctx context.Context, bin, addr, store string, accounts int, extra ...string) (*Proc, error) {
	args := append([]string{"-addr", addr, "-store", store, "-accounts", fmt.Sprint(accounts)}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Addr: addr, cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			if p.log.Len() < 1<<16 {
				p.log.WriteString(line + "\n")
			}
			p.mu.Unlock()
			if strings.Contains(line, "ready on") {
				once.Do(func() { close(ready) })
			}
		}
		cmd.Wait()
		close(p.done)
	}()
	select {
	case <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it was ready:\n%s", filepath.Base(bin), p.Log())
	case <-ctx.Done():
		p.Kill()
		return nil, fmt.Errorf("%s not ready: %w\n%s", filepath.Base(bin), ctx.Err(), p.Log())
	}
}

// Log returns what the process wrote to stderr (the first 64 KiB).
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM (a graceful shutdown) and waits up to timeout before
// killing.
func (p *Proc) Stop(timeout time.Duration) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// TempDir makes a directory for binaries and files of a run.
func TempDir() (string, error) { return os.MkdirTemp("", "igbank-cluster-") }

// lockedWriter is an io.Writer over a strings.Builder shared by goroutines.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() > 1<<16 {
		return len(p), nil
	}
	return w.b.Write(p)
}
