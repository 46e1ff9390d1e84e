package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/igbank/igbank/common/bank"
)

// Server is the metrics of the servers of one process, registered once
// with a registry; each transport served adds its calls (Bank) and its
// wire (Wire) under its name.
type Server struct {
	reg   prometheus.Registerer
	calls *calls
}

// NewServer registers the server metrics with reg.
func NewServer(reg prometheus.Registerer) *Server {
	return &Server{reg: reg, calls: newCalls(reg, "server")}
}

// Bank returns b with its calls counted under transport. Put it outside
// the authorization layer, so that refused calls are counted too.
func (s *Server) Bank(transport string, b bank.Bank) bank.Bank { return s.calls.wrap(transport, b) }

// Wire exports w's counts under transport.
func (s *Server) Wire(transport string, w *Wire) {
	labels := prometheus.Labels{"transport": transport}
	s.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "igbank", Subsystem: "server", Name: "connections_open",
			Help: "Connections open now.", ConstLabels: labels,
		}, func() float64 { open, _ := w.Conns(); return float64(open) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "igbank", Subsystem: "server", Name: "connections_total",
			Help: "Connections accepted.", ConstLabels: labels,
		}, func() float64 { _, n := w.Conns(); return float64(n) }),
	)
	for _, dir := range []string{"in", "out"} {
		s.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "igbank", Subsystem: "server", Name: "bytes_total",
			Help:        "Bytes read (in) and written (out) on the server's connections, TLS records included.",
			ConstLabels: prometheus.Labels{"transport": transport, "direction": dir},
		}, func() float64 {
			in, out := w.Bytes()
			if dir == "in" {
				return float64(in)
			}
			return float64(out)
		}))
	}
}
