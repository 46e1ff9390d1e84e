package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/chart"
	"github.com/igbank/igbank/loadtest/page"
)

// TimeoutConfig is the timeout lab: one transport, a server behind a
// link of Latency ± Jitter each way, and one run per attempt timeout.
type TimeoutConfig struct {
	Transport transport.Variant
	// Timeouts are the attempt timeouts to try, in order.
	Timeouts []time.Duration
	// Latency and Jitter are added to every packet, each way (Toxiproxy's
	// latency toxic): a healthy server that is merely slow.
	Latency, Jitter time.Duration
	// Cell is how each run is driven (its AttemptTimeout is set from
	// Timeouts; the server ignores keys, so that a retry of a deposit
	// already applied shows as a duplicate).
	Cell Config
}

// DefaultTimeoutConfig is "loadtest timeouts" with no flags: raw
// sockets, 10 ms ± 5 ms each way, attempt timeouts from 5 ms to 200 ms.
func DefaultTimeoutConfig(tr transport.Variant) TimeoutConfig {
	ms := time.Millisecond
	return TimeoutConfig{Transport: tr, Latency: 10 * ms, Jitter: 5 * ms,
		Timeouts: []time.Duration{5 * ms, 10 * ms, 15 * ms, 20 * ms, 30 * ms, 50 * ms, 100 * ms, 200 * ms},
		Cell: Config{Deposits: 150, Workers: 8, Accounts: 8, Duration: 1500 * time.Millisecond,
			CallTimeout: 4 * time.Second}}
}

// TimeoutPoint is one attempt timeout's figures: on the slow but healthy
// server (every failure a false suspicion) and through a silent outage.
type TimeoutPoint struct {
	TimeoutMs float64 `json:"timeout_ms"`
	// The slow, healthy server.
	RetriesPerCall float64 `json:"retries_per_call"` // every retry is spurious: the server was up
	Duplicated     int     `json:"duplicated"`       // deposits applied twice (keys ignored)
	BreakerOpened  int64   `json:"breaker_opened"`   // times the breaker declared a healthy server down
	Unacknowledged int     `json:"unacknowledged"`   // deposits that ended without an answer
	P99Ms          float64 `json:"p99_ms"`
	// The silent outage: the server stops answering (its packets are
	// held) for a window of the run.
	DetectMs float64 `json:"detect_ms"` // from the outage's start to the breaker's opening; -1: never opened in the window
	// Healthy and Outage are the two runs, whole.
	Healthy Result `json:"healthy"`
	Outage  Result `json:"outage"`
}

// TimeoutReport is the lab's outcome.
type TimeoutReport struct {
	Kind      string         `json:"kind"` // TimeoutKind
	Transport string         `json:"transport"`
	LatencyMs float64        `json:"latency_ms"`
	JitterMs  float64        `json:"jitter_ms"`
	Points    []TimeoutPoint `json:"points"`
}

// TimeoutKind is the kind of a saved timeout lab.
const TimeoutKind = "igbank-timeouts"

// Timeout scenarios: the slow healthy server, and the same link with a
// silent outage from 40% to 80% of the run (Toxiproxy's timeout toxic
// with no timeout: whatever the client sends is held, nothing is
// answered, no connection is closed, as with a hung server or a
// partition).
func timeoutScenarios(c TimeoutConfig) (healthy, outage Scenario) {
	lat := map[string]any{"latency": c.Latency.Milliseconds(), "jitter": c.Jitter.Milliseconds()}
	slow := []toxic{{Name: "lat-up", Type: "latency", Stream: "upstream", Attributes: lat}, {Name: "lat-down", Type: "latency", Stream: "downstream", Attributes: lat}}
	healthy = Scenario{Name: "slow-healthy", setup: func(r *rig, _ Config) (*injection, error) {
		return toxicFault(r, nil, slow...), nil
	}}
	outage = Scenario{Name: "silent-outage", setup: func(r *rig, _ Config) (*injection, error) {
		for _, x := range slow {
			if err := r.proxy.Add(x); err != nil {
				return nil, err
			}
		}
		return &injection{addr: r.proxy.Addr(), windows: [][2]float64{{0.4, 0.8}},
			on: func() error {
				return r.proxy.Add(toxic{Name: "hang", Type: "timeout", Stream: "upstream", Attributes: map[string]any{"timeout": 0}})
			},
			off: func() error { return r.proxy.Remove("hang") }}, nil
	}}
	return healthy, outage
}

// RunTimeouts runs the timeout lab: for each attempt timeout, the slow
// healthy server, then the silent outage. progress, if set, is told of
// each run as it starts.
func RunTimeouts(ctx context.Context, c TimeoutConfig, progress func(string)) (TimeoutReport, error) {
	rep := TimeoutReport{Kind: TimeoutKind, Transport: c.Transport.Name, LatencyMs: ms(c.Latency), JitterMs: ms(c.Jitter)}
	healthy, outage := timeoutScenarios(c)
	for _, t := range c.Timeouts {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		cell := c.Cell
		cell.AttemptTimeout, cell.IgnoreKeys = t, true
		if progress != nil {
			progress(fmt.Sprintf("attempt timeout %v: slow healthy server, then a silent outage", t))
		}
		h := runCell(ctx, healthy, c.Transport, cell)
		if h.Error != "" {
			return rep, fmt.Errorf("timeout %v, healthy: %s", t, h.Error)
		}
		o := runCell(ctx, outage, c.Transport, cell)
		if o.Error != "" {
			return rep, fmt.Errorf("timeout %v, outage: %s", t, o.Error)
		}
		h.Timeline, o.Timeline = nil, nil // the lab draws no timelines: keep the JSON small
		rep.Points = append(rep.Points, TimeoutPoint{TimeoutMs: ms(t),
			RetriesPerCall: h.RetriesPerCall, Duplicated: h.Audit.Duplicated, BreakerOpened: h.BreakerOpened,
			Unacknowledged: h.Audit.Attempted - h.Audit.Acknowledged, P99Ms: h.P99Ms,
			DetectMs: detection(o), Healthy: h, Outage: o})
	}
	return rep, nil
}

// detection is how long after the outage began the breaker opened; -1 if
// it did not open inside the outage.
func detection(r Result) float64 {
	if len(r.FaultWindows) == 0 {
		return -1
	}
	w := r.FaultWindows[0]
	for _, t := range r.Transitions {
		if t.To == "open" && t.AtMs >= w[0] && t.AtMs <= w[1] {
			return t.AtMs - w[0]
		}
	}
	return -1
}

// WriteTimeoutTable prints the lab's figures, a row per attempt timeout.
func WriteTimeoutTable(w io.Writer, rep TimeoutReport) error {
	fmt.Fprintf(w, "%s, %.0f ms ± %.0f ms each way; the server ignores keys\n\n", rep.Transport, rep.LatencyMs, rep.JitterMs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "attempt timeout\tspurious retries/call\tapplied twice\tbreaker opened (healthy)\tunanswered\tp99 ms\toutage detected after\t")
	for _, p := range rep.Points {
		fmt.Fprintf(tw, "%.0f ms\t%.2f\t%d\t%d\t%d\t%.1f\t%s\t\n", p.TimeoutMs, p.RetriesPerCall, p.Duplicated, p.BreakerOpened, p.Unacknowledged, p.P99Ms, detectText(p.DetectMs))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nOn the healthy server every retry, duplicate and breaker opening is a false suspicion; the outage is a real one (packets held, nothing answered) from 40% to 80% of its run.")
	return err
}

func detectText(ms float64) string {
	if ms < 0 {
		return "not detected"
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// WriteTimeoutJSON writes rep as JSON.
func WriteTimeoutJSON(w io.Writer, rep TimeoutReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

const timeoutNote = "A timeout is a failure detector's guess. Left: on a server that is up but slow (every packet delayed), what each attempt timeout wrongly suspects: attempts retried although the server was working, deposits applied twice because the server ignores keys, breaker openings on a healthy server. Right: how long a real, silent outage (nothing answered, no connection closed) takes to be declared, by the breaker opening. Short timeouts detect fast and suspect wrongly; long ones are accurate and slow."

// WriteTimeoutHTML writes the lab as a self-contained page: the false
// suspicions and the detection time against the attempt timeout, and the
// table.
func WriteTimeoutHTML(w io.Writer, rep TimeoutReport) error {
	p := page.New("IGBank timeout lab: how long is long enough")
	p.Printf("<section id=\"timeouts\"><h2>Attempt timeout: accuracy against completeness</h2><p class=\"note\">%s</p>", html.EscapeString(timeoutNote))
	var xs []float64
	for _, pt := range rep.Points {
		xs = append(xs, pt.TimeoutMs)
	}
	line := func(name, color string, y func(TimeoutPoint) float64) chart.Series {
		s := chart.Series{Name: name, Color: color}
		for _, pt := range rep.Points {
			if v := y(pt); v >= 0 {
				s.Points = append(s.Points, chart.Point{X: pt.TimeoutMs, Y: v})
			}
		}
		return s
	}
	suspicion := []chart.Series{
		line("spurious retries per call", colUnavail, func(pt TimeoutPoint) float64 { return pt.RetriesPerCall }),
		line("applied twice, per deposit", colDup, func(pt TimeoutPoint) float64 {
			return float64(pt.Duplicated) / math.Max(1, float64(pt.Healthy.Audit.Attempted))
		}),
		line("breaker openings", colOpen, func(pt TimeoutPoint) float64 { return float64(pt.BreakerOpened) }),
	}
	var ys []float64
	for _, s := range suspicion {
		for _, pt := range s.Points {
			ys = append(ys, pt.Y)
		}
	}
	detect := []chart.Series{line("outage detected after (ms)", colClosed, func(pt TimeoutPoint) float64 { return pt.DetectMs })}
	var ds []float64
	for _, pt := range detect[0].Points {
		ds = append(ds, pt.Y)
	}
	xl := func(v float64) string { return fmt.Sprintf("%.0f ms", v) }
	p.Pair(func() {
		p.WriteString(chart.Lines{Title: fmt.Sprintf("False suspicions of a healthy server (%.0f ± %.0f ms each way)", rep.LatencyMs, rep.JitterMs),
			XLabel: "attempt timeout", YLabel: "per run", Series: suspicion, X: chart.NiceAxis(xs, true), Y: chart.NiceAxis(append(ys, 0), false),
			XTicks: xs, XTickLabel: xl, YFormat: func(v float64) string { return fmt.Sprintf("%.2f", v) }}.SVG())
	}, func() {
		p.WriteString(chart.Lines{Title: "Time to declare a silent outage",
			XLabel: "attempt timeout", YLabel: "ms", Series: detect, X: chart.NiceAxis(xs, true), Y: chart.NiceAxis(append(ds, 0), false),
			XTicks: xs, XTickLabel: xl, YFormat: func(v float64) string { return fmt.Sprintf("%.0f ms", v) }}.SVG())
	})
	var b strings.Builder
	WriteTimeoutTable(&b, rep)
	p.Printf("<pre>%s</pre></section>\n", html.EscapeString(b.String()))
	return p.Finish(w)
}
