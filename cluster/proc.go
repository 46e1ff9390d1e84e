// Package cluster runs IGBank servers as separate processes for the
// durability experiments: server replicas on a shared PostgreSQL behind a
// real load balancer (HAProxy), and servers killed with SIGKILL in the
// middle of a deposit load. Its tests are the crash-safety and replica
// tests; cmd/cluster starts a cluster by hand.
package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/igbank/igbank/common/process"
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

// Proc is a server process and the address it serves on.
type Proc struct {
	*process.Proc
	Addr string
	// Metrics is the address of its Prometheus metrics, "" if none.
	Metrics string
}

// Start runs bin -addr addr -store store -accounts accounts (plus extra
// arguments) and waits until it logs its ready line or ctx ends.
func Start(ctx context.Context, bin, addr, store string, accounts int, extra ...string) (*Proc, error) {
	args := append([]string{"-addr", addr, "-store", store, "-accounts", fmt.Sprint(accounts)}, extra...)
	p, err := process.Start(ctx, exec.Command(bin, args...), "ready on")
	if err != nil {
		return nil, err
	}
	return &Proc{Proc: p, Addr: addr}, nil
}

// TempDir makes a directory for binaries and files of a run.
func TempDir() (string, error) { return os.MkdirTemp("", "igbank-cluster-") }
