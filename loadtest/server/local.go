package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/metrics"
	"github.com/igbank/igbank/common/netem"
	"github.com/igbank/igbank/common/store"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/common/transport"
)

// Local is a transport's server running in this process.
type Local struct {
	srv     transport.Server
	wire    metrics.Wire
	addr    string
	done    chan error
	store   io.Closer
	metrics *metrics.Endpoint
	// flush exports the spans still buffered, once the server has
	// stopped (traces.Setup).
	flush func(context.Context) error
}

// Start serves b over t on addr, in this process, with the shared
// settings cfg.
func Start(t transport.Variant, addr string, b bank.Bank, cfg transport.ServerConfig) (*Local, error) {
	return start(t, addr, netem.Loopback, b, cfg)
}

// start is Start beneath the emulated network: the byte counts are of
// what the server read and wrote, above it.
func start(t transport.Variant, addr string, network netem.Profile, b bank.Bank, cfg transport.ServerConfig) (*Local, error) {
	return startMetrics(t, addr, network, b, cfg, "")
}

// startMetrics is start with the server's metrics served at maddr
// ("": none).
func startMetrics(t transport.Variant, addr string, network netem.Profile, b bank.Bank, cfg transport.ServerConfig, maddr string) (*Local, error) {
	tl, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := network.Listener(tl)
	s := &Local{addr: l.Addr().String(), done: make(chan error, 1)}
	if maddr != "" {
		e, m, err := metrics.ServeServer(maddr, t.Name, &s.wire, cfg.Logger)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("metrics: %w", err)
		}
		s.metrics, b = e, m.Bank(t.Name, b)
	}
	s.srv = t.NewServer(b, cfg)
	ln := s.wire.Listener(l)
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// startStore serves t as c says, over the ledger c.Store names, seeded
// with c.Accounts accounts; closing the server closes the store.
func startStore(t transport.Variant, c Config) (*Local, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	copts, err := c.Clock.StoreOptions()
	if err != nil {
		return nil, err
	}
	lg, closer, err := store.Open(ctx, c.Store, c.Accounts, copts...)
	if err != nil {
		return nil, err
	}
	if st := c.Statements; st != nil {
		m, ok := lg.(*ledger.Memory)
		if !ok {
			closer.Close()
			return nil, errors.New("statements are seeded in the in-memory ledger only")
		}
		if err := m.SeedMonth(st.Month, st.Accounts, st.Rows); err != nil {
			closer.Close()
			return nil, err
		}
	}
	addr := c.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cfg, err := c.Security.Config(addr)
	if err != nil {
		closer.Close()
		return nil, err
	}
	cfg.MaxConns = c.MaxConns
	cfg.Logger = c.Logger
	if err := c.Security.CheckMetrics(c.Metrics); err != nil {
		closer.Close()
		return nil, err
	}
	tp, flush, err := traces.Setup(ctx, c.OTLP, cli.ServiceName(t.Name, "server"))
	if err != nil {
		closer.Close()
		return nil, err
	}
	cfg.Tracer = tp
	s, err := startMetrics(t, addr, c.Network, traces.Bank(c.wrap(bank.NewService(traces.Ledger(lg, tp))), tp), cfg, c.Metrics)
	if err != nil {
		closer.Close()
		return nil, err
	}
	s.store, s.flush = closer, flush
	return s, nil
}

// Addr is the address the server listens on.
func (s *Local) Addr() string { return s.addr }

// MetricsAddr is the address of the server's metrics, "" if it has none.
func (s *Local) MetricsAddr() string {
	if s.metrics == nil {
		return ""
	}
	return s.metrics.Addr().String()
}

// stats returns the server's byte counts and, if own (the server has the
// process to itself), the process's accounting.
func (s *Local) stats(own bool) ProcStats {
	var p ProcStats
	if own {
		p = ReadProcStats()
	}
	p.BytesIn, p.BytesOut = s.wire.Bytes()
	return p
}

// Close shuts the server down gracefully, within 10 s, and closes its
// store.
func (s *Local) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.store != nil {
		defer s.store.Close()
	}
	if s.metrics != nil {
		defer s.metrics.Close()
	}
	if s.flush != nil {
		defer s.flush(ctx)
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		return errors.New("shutdown: " + err.Error())
	}
	select {
	case err := <-s.done:
		return err
	case <-ctx.Done():
		return errors.New("Serve did not return after Shutdown")
	}
}

// Handle is a running server under test, in its own process or in this
// one.
type Handle interface {
	Addr() string
	// Stats returns the server's accounting; OwnProcess says whether CPU,
	// allocation and memory figures are the server's alone.
	Stats() (ProcStats, error)
	OwnProcess() bool
	Close() error
}

type inProcess struct{ *Local }

func (h inProcess) Stats() (ProcStats, error) { return h.stats(false), nil }
func (h inProcess) OwnProcess() bool          { return false }

// StartInProcess starts the server c describes in this process. Its
// Stats count bytes only: the process's accounting is the client's too.
func StartInProcess(c Config) (Handle, error) {
	t, err := c.Validate()
	if err != nil {
		return nil, err
	}
	s, err := startStore(t, c)
	if err != nil {
		return nil, err
	}
	return inProcess{s}, nil
}

// External is a server that something else started, at addr: it has no
// accounting to give, and closing it does nothing.
func External(addr string) Handle { return external(addr) }

type external string

func (h external) Addr() string              { return string(h) }
func (h external) Stats() (ProcStats, error) { return ProcStats{}, nil }
func (h external) OwnProcess() bool          { return false }
func (h external) Close() error              { return nil }
