package banktest

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/hostile"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// dialH2 is hostile.DialH2 for a test: the connection is closed when the
// test ends.
func dialH2(t testing.TB, addr string, cfg *tls.Config, settings ...http2.Setting) *hostile.H2Peer {
	t.Helper()
	p, err := hostile.DialH2(addr, cfg, settings...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// RunHTTP2Abuse runs the HTTP/2 abuse section over transport variant v,
// whose server speaks gRPC over HTTP/2, in plaintext and over TLS, with
// read and write timeouts of 300 ms: a peer that keeps its window closed on
// 100 replies loses its connection, as does a peer resetting streams
// without pause (with GOAWAY ENHANCE_YOUR_CALM), and a well-behaved client
// is served before and after. (A server may release a stalled reply by
// resetting its stream instead: net/http's write timeout does.) balance is the gRPC message of a Balance
// request for ledger.SeedAccount(1), sent to path.
//
// resets says whether the server polices resets at a rate of its own
// (gRPC's common/h2guard); when not, that case is skipped (Connect:
// net/http's defence sends GOAWAY once reset streams queue up, not at a
// rate, and the hostile suite holds it to its budget).
func RunHTTP2Abuse(t *testing.T, v transport.Variant, path string, balance []byte, resets bool) {
	p := NewPKI(t)
	for _, secure := range []bool{false, true} {
		cfg := transport.ServerConfig{Timeouts: transport.Timeouts{Read: 300 * time.Millisecond, Write: 300 * time.Millisecond}}
		var ccfg transport.ClientConfig
		if secure {
			cfg.TLS, ccfg.TLS = p.ServerTLS(t, false), p.ClientTLS(t, "teller")
		}
		addr := Serve(t, v.NewServer(bank.NewService(ledger.NewMemory(Accounts)), cfg))
		wellBehaved := func(t *testing.T) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := dial(t, v, addr, ccfg).Balance(ctx, ledger.SeedAccount(1)); err != nil {
				t.Fatalf("a well-behaved client: %v", err)
			}
		}
		name := map[bool]string{false: "plaintext", true: "tls"}[secure]
		t.Run(name+"/stalled-window", func(t *testing.T) {
			h := dialH2(t, addr, ccfg.TLS, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
			const streams = 100
			for id := uint32(1); id < 2*streams; id += 2 {
				if err := h.Call(id, path, balance, true); err != nil {
					t.Fatal(err)
				}
			}
			wellBehaved(t)
			if _, _, err := h.Released(5*time.Second, streams); err != nil {
				t.Fatal(err)
			}
			wellBehaved(t)
		})
		t.Run(name+"/rapid-reset", func(t *testing.T) {
			if !resets {
				t.Skip("resets are net/http's to police (README.md)")
			}
			h := dialH2(t, addr, ccfg.TLS)
			go func() {
				for id := uint32(1); id < 1<<20; id += 2 {
					if h.Reset(id, path) != nil {
						return
					}
				}
			}()
			code, sent, err := h.Released(5*time.Second, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !sent || code != http2.ErrCodeEnhanceYourCalm {
				t.Errorf("GOAWAY %v (sent %v), want ENHANCE_YOUR_CALM", code, sent)
			}
			wellBehaved(t)
		})
	}
}
