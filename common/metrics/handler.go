package metrics

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime's and the process's
// collectors, the usual companions of a service's own metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg's metrics in Prometheus's exposition formats, at
// most 4 scrapes at once.
func Handler(reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	opts := promhttp.HandlerOpts{MaxRequestsInFlight: 4, Timeout: 10 * time.Second}
	if logger != nil {
		opts.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelError)
	}
	return promhttp.HandlerFor(reg, opts)
}

// Endpoint is an HTTP server of a registry's metrics at /metrics.
type Endpoint struct {
	srv  *http.Server
	addr net.Addr
	done chan error
}

// Listen serves reg's metrics at http://addr/metrics until Close.
func Listen(addr string, reg *prometheus.Registry, logger *slog.Logger) (*Endpoint, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler(reg, logger))
	e := &Endpoint{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      15 * time.Second,
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    8 << 10,
		},
		addr: l.Addr(),
		done: make(chan error, 1),
	}
	if logger != nil {
		e.srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelDebug)
	}
	go func() { e.done <- e.srv.Serve(l) }()
	return e, nil
}

// Addr is the address the endpoint listens on.
func (e *Endpoint) Addr() net.Addr { return e.addr }

// Close stops the endpoint at once: a scrape in progress is cut off.
func (e *Endpoint) Close() error {
	err := e.srv.Close()
	if serr := <-e.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// ServeServer serves at addr the metrics of a program serving transport:
// the Go runtime's and the process's, w's connections and bytes, and the
// calls of the banks the returned Server wraps (Server.Bank).
func ServeServer(addr, transport string, w *Wire, logger *slog.Logger) (*Endpoint, *Server, error) {
	reg := NewRegistry()
	s := NewServer(reg)
	s.Wire(transport, w)
	e, err := Listen(addr, reg, logger)
	if err != nil {
		return nil, nil, err
	}
	return e, s, nil
}
