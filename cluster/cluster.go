package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/logs"
)

// ReplicaFlags are the settings every replica is started with, beyond
// its address and its store: the flags of every cmd/server.
type ReplicaFlags struct {
	Security cli.ServerSecurity
	Log      logs.Flags
	// Metrics, if set, is where the first replica serves its Prometheus
	// metrics; replica i serves them i ports above it (127.0.0.1:9100:
	// 9100, 9101, ...), and a port 0 gives each replica a free one.
	Metrics string
	// Traces is -otlp, where every replica exports its spans.
	Traces cli.Traces
	// Directory, with Register set, makes every replica register itself
	// in the directory (-register, -directory, -lease-ttl), beside or
	// instead of HAProxy (StartCluster with lbAddr "none").
	Directory cli.Directory
	// Clocks, if set, gives replica i the wall clock Clocks[i]
	// (-clock-offset, -clock-drift).
	Clocks []cli.Clock
}

// Args returns the flags of replica i (from 0) and the address of its
// metrics ("" for none).
func (f ReplicaFlags) Args(i int) (args []string, metrics string, err error) {
	args = f.Security.Args()
	if f.Log.Format != "" && f.Log.Format != "text" {
		args = append(args, "-log-format", f.Log.Format)
	}
	if f.Log.Level != "" && f.Log.Level != "info" {
		args = append(args, "-log-level", f.Log.Level)
	}
	if f.Traces.OTLP != "" {
		args = append(args, "-otlp", f.Traces.OTLP)
	}
	args = append(args, f.Directory.Args()...)
	if i < len(f.Clocks) {
		args = append(args, f.Clocks[i].Args()...)
	}
	if f.Metrics == "" {
		return args, "", nil
	}
	host, port, err := net.SplitHostPort(f.Metrics)
	if err != nil {
		return nil, "", fmt.Errorf("-metrics %s: %w", f.Metrics, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p+i > 65535 {
		return nil, "", fmt.Errorf("-metrics %s: not a port for replica %d", f.Metrics, i+1)
	}
	if p == 0 {
		if metrics, err = FreeAddr(); err != nil {
			return nil, "", err
		}
	} else {
		metrics = net.JoinHostPort(host, strconv.Itoa(p+i))
	}
	return append(args, "-metrics", metrics), metrics, nil
}

// NoLB as StartCluster's lbAddr starts no HAProxy.
const NoLB = "none"

// Cluster is a set of server replicas of one transport on one store,
// behind an HAProxy.
type Cluster struct {
	Transport string
	Replicas  []*Proc
	LB        *LB
}

// StartCluster starts n replicas of bin (the cmd/server of transport) on
// fresh loopback ports, all on store, with the security sec says, and an
// HAProxy in front of them on lbAddr ("" for a fresh port, "none" for no
// HAProxy: clients then find the replicas through the directory, with
// flags.Directory). HAProxy speaks
// HTTP/2 to the replicas where the transport's descriptor says its
// servers do; with TLS it passes connections through (TCP mode), so that
// the replicas terminate TLS and see the clients' certificates. dir holds
// HAProxy's configuration.
func StartCluster(ctx context.Context, dir, transport, bin string, n int, store string, accounts int, lbAddr string, flags ReplicaFlags) (*Cluster, error) {
	d, _, err := lookup(transport)
	if err != nil {
		return nil, err
	}
	args, err := ServerArgs(transport)
	if err != nil {
		return nil, err
	}
	mode := HTTP
	switch {
	case flags.Security.TLSCert != "":
		mode = TCP
	case d.HTTP2:
		mode = HTTP2
	}
	c := &Cluster{Transport: transport}
	var addrs []string
	for i := range n {
		addr, err := FreeAddr()
		if err != nil {
			c.Stop()
			return nil, err
		}
		extra, maddr, err := flags.Args(i)
		if err != nil {
			c.Stop()
			return nil, err
		}
		p, err := Start(ctx, bin, addr, store, accounts, append(slices.Clip(args), extra...)...)
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("replica %d: %w", len(addrs)+1, err)
		}
		p.Metrics = maddr
		c.Replicas = append(c.Replicas, p)
		addrs = append(addrs, addr)
	}
	if lbAddr == NoLB {
		return c, nil
	}
	if lbAddr == "" {
		var err error
		if lbAddr, err = FreeAddr(); err != nil {
			c.Stop()
			return nil, err
		}
	}
	lb, err := StartHAProxy(ctx, dir, lbAddr, addrs, mode)
	if err != nil {
		c.Stop()
		return nil, err
	}
	c.LB = lb
	return c, nil
}

// Stop ends HAProxy and every replica still running (SIGTERM).
func (c *Cluster) Stop() error {
	if c.LB != nil {
		c.LB.Stop()
	}
	var errs []error
	for _, p := range c.Replicas {
		if !p.Exited() {
			p.Stop(10e9)
		}
	}
	return errors.Join(errs...)
}
