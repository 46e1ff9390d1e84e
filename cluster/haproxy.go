package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/igbank/igbank/common/process"
)

// LB is an HAProxy process balancing over server replicas.
type LB struct {
	*process.Proc
	Addr string
}

// Mode is how HAProxy carries the replicas' protocol.
type Mode int

const (
	// HTTP balances HTTP/1.1 requests (REST), and the TCP transports'
	// connections, in HTTP mode's keep-alive.
	HTTP Mode = iota
	// HTTP2 speaks HTTP/2 on both sides (gRPC, Connect), so that calls, not
	// connections, are balanced.
	HTTP2
	// TCP passes connections through untouched: with TLS the replicas
	// terminate it themselves, so their certificate, the client's
	// certificate (mutual TLS) and end-to-end encryption all reach the
	// replica, and HAProxy needs no keys. Connections, not calls, are
	// balanced.
	TCP
)

// HAProxyConfig returns an HAProxy configuration that listens on addr and
// balances round-robin over backends in mode m, with fast health checks
// so that a dead replica leaves the rotation within about half a second,
// and connection failures redispatched to another replica (safe: nothing
// was sent).
func HAProxyConfig(addr string, backends []string, m Mode) string {
	mode, proto, keepAlive := "http", "", "\ttimeout http-keep-alive 30s\n\toption http-keep-alive\n"
	switch m {
	case HTTP2:
		proto = " proto h2"
	case TCP:
		mode, keepAlive = "tcp", ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, `global
	maxconn 4096

defaults
	mode %s
	timeout connect 1s
	timeout client 30s
	timeout server 30s
%s	retries 3
	option redispatch 1

frontend igbank
	bind %s%s
	default_backend replicas

backend replicas
	balance roundrobin
	default-server check inter 200ms fall 1 rise 2%s
`, mode, keepAlive, addr, proto, proto)
	for i, be := range backends {
		fmt.Fprintf(&b, "\tserver r%d %s\n", i+1, be)
	}
	return b.String()
}

// StartHAProxy writes the configuration into dir and runs haproxy in the
// foreground until Stop; it returns when the frontend accepts connections.
func StartHAProxy(ctx context.Context, dir, addr string, backends []string, m Mode) (*LB, error) {
	path, err := exec.LookPath("haproxy")
	if err != nil {
		return nil, fmt.Errorf("haproxy is not installed (apt-get install -y haproxy): %w", err)
	}
	cfg := filepath.Join(dir, "haproxy-"+strings.ReplaceAll(addr, ":", "_")+".cfg")
	if err := os.WriteFile(cfg, []byte(HAProxyConfig(addr, backends, m)), 0o644); err != nil {
		return nil, err
	}
	p, err := process.Start(ctx, exec.Command(path, "-db", "-f", cfg), "")
	if err != nil {
		return nil, err
	}
	lb := &LB{Proc: p, Addr: addr}
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return lb, nil
		}
		select {
		case <-lb.Done():
			return nil, fmt.Errorf("haproxy exited: %s", lb.Stderr())
		case <-ctx.Done():
			lb.Stop()
			return nil, fmt.Errorf("haproxy not ready: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends HAProxy: SIGTERM, then a kill after 5 s.
func (lb *LB) Stop() { lb.Proc.Stop(5 * time.Second) }
