package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/log"
)

// quietToxics turns the trace logging some toxics (bandwidth) write to
// zerolog's global logger down to warnings, once: Toxiproxy is a library
// here, and its trace lines would land on the load generator's stderr.
var quietToxics = sync.OnceFunc(func() { log.Logger = log.Logger.Level(zerolog.WarnLevel) })

// toxic is one Toxiproxy toxic: its type ("latency", "timeout",
// "reset_peer", "limit_data", "bandwidth", "slicer", ...), the direction it
// acts on ("upstream": client to server, "downstream": server to client)
// and its attributes, as Toxiproxy's HTTP API takes them.
type toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// proxy is an embedded Toxiproxy: one TCP proxy on 127.0.0.1, run in
// this process by the library (no separate install, no HTTP API listening),
// between a transport's client and its server.
type proxy struct {
	proxy *toxiproxy.Proxy
	addr  string

	mu      sync.Mutex
	enabled bool
}

// startProxy starts a proxy on a free port of 127.0.0.1 that forwards
// every connection to upstream.
func startProxy(name, upstream string) (*proxy, error) {
	quietToxics()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("toxiproxy: %w", err)
	}
	// Start waits for the listener, so Listen now holds its address, which
	// a restart (Enable) listens on again.
	return &proxy{proxy: p, addr: p.Listen, enabled: true}, nil
}

// Addr is the proxy's address, for the client to dial.
func (t *proxy) Addr() string { return t.addr }

// Add installs a toxic; it acts on the connections open now and on those
// opened later, until removed.
func (t *proxy) Add(x toxic) error {
	if x.Toxicity == 0 {
		x.Toxicity = 1
	}
	if x.Name == "" {
		x.Name = x.Type + "_" + x.Stream
	}
	b, err := json.Marshal(x)
	if err != nil {
		return err
	}
	if _, err := t.proxy.Toxics.AddToxicJson(strings.NewReader(string(b))); err != nil {
		return fmt.Errorf("toxiproxy: add %s: %w", x.Name, err)
	}
	return nil
}

// Remove takes a toxic away by name (a timeout toxic closes the
// connections it held as it goes).
func (t *proxy) Remove(name string) error {
	return t.proxy.Toxics.RemoveToxic(context.Background(), name)
}

// RemoveAll takes every toxic away.
func (t *proxy) RemoveAll() { t.proxy.Toxics.ResetToxics(context.Background()) }

// Disable stops the proxy: its listener closes (a dial is refused) and
// every connection through it is closed.
func (t *proxy) Disable() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.enabled {
		t.proxy.Stop()
		t.enabled = false
	}
}

// Enable starts a disabled proxy again on the same address.
func (t *proxy) Enable() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.enabled {
		return nil
	}
	if err := t.proxy.Start(); err != nil {
		return fmt.Errorf("toxiproxy: restart on %s: %w", t.addr, err)
	}
	t.enabled = true
	return nil
}

// Close stops the proxy and removes its toxics.
func (t *proxy) Close() {
	t.RemoveAll()
	t.Disable()
}
