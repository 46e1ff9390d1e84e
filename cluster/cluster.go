package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/igbank/igbank/common/cli"
)

// Cluster is a set of server replicas of one transport on one store,
// behind an HAProxy.
type Cluster struct {
	Transport string
	Replicas  []*Proc
	LB        *LB
}

// StartCluster starts n replicas of bin (the cmd/server of transport) on
// fresh loopback ports, all on store, with the security sec says, and an
// HAProxy in front of them on lbAddr ("" for a fresh port). HAProxy speaks
// HTTP/2 to the replicas where the transport's descriptor says its
// servers do; with TLS it passes connections through (TCP mode), so that
// the replicas terminate TLS and see the clients' certificates. dir holds
// HAProxy's configuration. extra are more arguments of every replica
// (such as -otlp URL).
func StartCluster(ctx context.Context, dir, transport, bin string, n int, store string, accounts int, lbAddr string, sec cli.ServerSecurity, extra ...string) (*Cluster, error) {
	d, _, err := lookup(transport)
	if err != nil {
		return nil, err
	}
	args, err := ServerArgs(transport)
	if err != nil {
		return nil, err
	}
	args = append(append(args, sec.Args()...), extra...)
	mode := HTTP
	switch {
	case sec.TLSCert != "":
		mode = TCP
	case d.HTTP2:
		mode = HTTP2
	}
	c := &Cluster{Transport: transport}
	var addrs []string
	for range n {
		addr, err := FreeAddr()
		if err != nil {
			c.Stop()
			return nil, err
		}
		p, err := Start(ctx, bin, addr, store, accounts, args...)
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("replica %d: %w", len(addrs)+1, err)
		}
		c.Replicas = append(c.Replicas, p)
		addrs = append(addrs, addr)
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
