package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/chart"
	"github.com/igbank/igbank/loadtest/registry"
)

// groupKey identifies the load point of a result: the load (a
// concurrency or a rate) and the setting it ran in (the network, the
// statement rows seeded, the security mode, connections kept or churned).
type groupKey struct {
	conc     int
	rate     float64
	security string
	churn    bool
	network  string
	rows     int
	conns    int // Result.Connections: 0, each transport's default
}

// keyOf is the load point of res. A report saved before networks and
// security modes were dimensions ran plaintext on loopback, and compares
// with one that names them.
func keyOf(res *bench.Result) groupKey {
	sec := res.Security
	if sec == "" {
		sec = bench.SecurityPlain
	}
	return groupKey{res.Concurrency, res.Rate, sec, res.Churn, networkName(res.Network), res.StatementRows, res.Connections}
}

// setting is the key without its load: the points a sweep of load
// draws as one line.
func (k groupKey) setting() groupKey {
	k.conc, k.rate = 0, 0
	return k
}

// naming says which dimensions a label names: the network and the
// statement rows only when the run made them a dimension, so that the
// labels of a run without them read as before.
type naming struct {
	showNetwork, showRows, showConns bool
}

func namingOf(c bench.Config) naming {
	return naming{showNetwork: len(c.Networks) > 0, showRows: c.StatementRows != nil, showConns: len(c.Connections) > 1}
}

// group is the results of one load point, ranked.
type group struct {
	groupKey
	naming
	results []*bench.Result
}

// loadLabel names the load: "concurrency 64", "rate 5000/s".
func (g group) loadLabel() string {
	if g.rate > 0 {
		return fmt.Sprintf("rate %s/s", strconv.FormatFloat(g.rate, 'f', -1, 64))
	}
	return fmt.Sprintf("concurrency %d", g.conc)
}

// settingLabel names what the load ran in, where the run varied it or it
// is not the default: "wan, 1,000 statement rows, TLS"; "" when nothing
// is to be said.
func (g group) settingLabel() string { return g.settingLabelWithout("") }

// settingLabelWithout is settingLabel without the dimension dim
// ("network", "rows", "security" or "churn"): the label of the points a
// chart compares across dim.
func (g group) settingLabelWithout(dim string) string {
	var parts []string
	if g.showNetwork && dim != "network" {
		parts = append(parts, g.network)
	}
	if g.showRows && dim != "rows" {
		parts = append(parts, fmtCount(uint64(max(g.rows, 0)))+" statement rows")
	}
	if g.showConns && dim != "connections" {
		if g.conns > 0 {
			parts = append(parts, fmtCount(uint64(g.conns))+" connections")
		} else {
			parts = append(parts, "default connections")
		}
	}
	sec, churn := g.security, g.churn
	switch dim {
	case "security":
		sec = bench.SecurityPlain
		if churn {
			parts = append(parts, "a new connection per call")
		}
		churn = false
	case "churn":
		churn = false
	}
	if sec != bench.SecurityPlain || churn {
		parts = append(parts, bench.DescribeSecurity(sec, churn))
	}
	return strings.Join(parts, ", ")
}

func (g group) label() string {
	if s := g.settingLabel(); s != "" {
		return g.loadLabel() + ", " + s
	}
	return g.loadLabel()
}

// networkName is a result's network as the labels show it: a report
// saved before networks were a dimension ran on loopback.
func networkName(n string) string {
	if n == "" {
		return "loopback"
	}
	return n
}

// groups splits the results by load point, in run order, each ranked
// (ranksBefore).
func groups(r *bench.Report) []group {
	var gs []group
	idx := map[groupKey]int{}
	nm := namingOf(r.Config)
	for _, res := range r.Results {
		if len(res.Samples) == 0 {
			continue // not reached before an interrupt
		}
		k := keyOf(res)
		i, ok := idx[k]
		if !ok {
			i = len(gs)
			idx[k] = i
			gs = append(gs, group{groupKey: k, naming: nm})
		}
		gs[i].results = append(gs[i].results, res)
	}
	for _, g := range gs {
		sort.SliceStable(g.results, func(a, b int) bool { return ranksBefore(g.rate > 0, g.results[a], g.results[b]) })
	}
	return gs
}

// isReference reports whether res is the TCP ping-pong, also under the
// tag Merge gives it.
func isReference(res *bench.Result) bool {
	return res.Transport == registry.ReferenceName || strings.HasPrefix(res.Transport, registry.ReferenceName+" ")
}

// troubled reports whether any call of res failed (or none finished).
func troubled(s bench.Summary) bool { return s.Errors > 0 || s.Failed }

// ranksBefore orders a load point's results. The reference comes first,
// unranked: it is the yardstick. Then every transport that answered every
// call, before any that did not, however fast: a transport that fails
// calls is not faster, and its latencies are partly those of failures.
// Error-free transports rank by successful calls per second (closed
// loop) or by median p99 (open loop, where every transport is offered
// the same rate); the others by successful calls per second, those that
// failed outright last.
func ranksBefore(open bool, a, b *bench.Result) bool {
	if ra, rb := isReference(a), isReference(b); ra != rb {
		return ra
	}
	sa, sb := a.Summary, b.Summary
	if ta, tb := troubled(sa), troubled(sb); ta != tb {
		return !ta
	} else if !ta && open {
		return sa.P99.Median < sb.P99.Median
	}
	if sa.Failed != sb.Failed {
		return !sa.Failed
	}
	return sa.Successful.Median > sb.Successful.Median
}

func fmtNum(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }

// fmtCount writes n with thousands separators: 1,234,567.
func fmtCount(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fmtErrRate writes an error rate (0 to 1) as a percentage with the
// digits that matter: "0", "4.1%", "0.0012%". A rate that rounds to 0 is
// never written as 0: one failed call in millions still failed.
func fmtErrRate(rate float64) string {
	pct := rate * 100
	switch {
	case rate == 0:
		return "0"
	case pct >= 10:
		return fmtNum(pct, 0) + "%"
	case pct >= 0.1:
		return fmtNum(pct, 1) + "%"
	}
	return strconv.FormatFloat(pct, 'g', 2, 64) + "%"
}

// stuck is how many callers of res the run's own deadline cut off, over
// the rounds.
func stuck(res *bench.Result) uint64 {
	var n uint64
	for _, s := range res.Samples {
		n += s.Stuck
	}
	return n
}

// errorsText lists the errors of res by code, and how many callers were
// stuck; "0" when there were none.
func errorsText(res *bench.Result) string {
	s := res.Summary
	if s.Errors == 0 {
		return "0"
	}
	codes := make([]string, 0, len(s.ErrorsByCode))
	for c, n := range s.ErrorsByCode {
		codes = append(codes, fmt.Sprintf("%s:%d", c, n))
	}
	sort.Strings(codes)
	t := strings.Join(codes, " ")
	if t == "" {
		t = fmtCount(s.Errors) + " errors"
	}
	if n := stuck(res); n > 0 {
		t += fmt.Sprintf("; %s stuck", fmtCount(n))
	}
	return t
}

// refRatio is the median over the rounds of the successful calls per
// second of res over the reference's in the same round (the engine's
// Sample.RefRatio); 0: no reference.
func refRatio(res *bench.Result) float64 { return res.Summary.RefRatio.Median }

// fmtRef writes a ratio to the reference, or an en dash where there is
// none: a ratio of 0 would read as a transport that did nothing.
func fmtRef(x float64) string {
	if x == 0 {
		return "–"
	}
	return fmtNum(x, 2)
}

// hasConnMemory reports whether res measured the server's memory per
// connection (the connections were the run's own and the server its own
// process).
func hasConnMemory(res *bench.Result) bool {
	for _, s := range res.Samples {
		if s.Idle != nil && s.Connected != nil && s.OpenConns > 0 {
			return true
		}
	}
	return false
}

// connMemory reports whether any result of g measured memory per
// connection, and how many connections were open if every one held the
// same number (0 otherwise).
func (g group) connMemory() (bool, int) {
	some, conns := false, -1
	for _, res := range g.results {
		if !hasConnMemory(res) {
			continue
		}
		some = true
		for _, s := range res.Samples {
			if s.OpenConns <= 0 {
				continue
			}
			if conns == -1 {
				conns = s.OpenConns
			} else if conns != s.OpenConns {
				conns = 0
			}
		}
	}
	return some, max(conns, 0)
}

// failedText is what a failed result shows in place of its figures.
const failedText = "FAILED: no call succeeded"

// column is one column of a group's table. A figure is a measurement of
// the calls that succeeded: a failed result has none, and shows
// failedText across them rather than a row of zeros.
type column struct {
	head   string
	figure bool
	cell   func(res *bench.Result) string
}

// columns are the columns of g's table in report r: the terminal's
// (figures and their ranges in one cell) or, for the page, split.
func columns(r *bench.Report, g group, page bool) []column {
	c := r.Config
	var cols []column
	add := func(head string, figure bool, cell func(*bench.Result) string) {
		cols = append(cols, column{head, figure, cell})
	}
	srv := func(res *bench.Result) bool {
		return len(res.Samples) > 0 && res.Samples[0].ServerOwnProc && !res.Samples[0].ServerLate
	}
	// bytes are counted by the server, and unknown when it answered late.
	bytes := func(res *bench.Result, f func(bench.Summary) string) string {
		if len(res.Samples) > 0 && res.Samples[0].ServerLate {
			return "n/a"
		}
		return f(res.Summary)
	}
	add("transport", false, func(res *bench.Result) string { return res.Transport })
	if page {
		add("calls/s", true, func(res *bench.Result) string { return chart.FormatRate(res.Summary.Successful.Median) })
		add("min–max", true, func(res *bench.Result) string {
			return chart.FormatRate(res.Summary.Successful.Min) + "–" + chart.FormatRate(res.Summary.Successful.Max)
		})
	} else {
		add("calls/s [min–max]", true, func(res *bench.Result) string {
			s := res.Summary.Successful
			return fmt.Sprintf("%s [%s–%s]", chart.FormatRate(s.Median), chart.FormatRate(s.Min), chart.FormatRate(s.Max))
		})
	}
	add("err %", false, func(res *bench.Result) string {
		if res.Summary.Failed {
			return "100%"
		}
		return fmtErrRate(res.Summary.ErrorRate)
	})
	add("×ref", true, func(res *bench.Result) string { return fmtRef(refRatio(res)) })
	micros := func(f func(bench.Summary) float64) func(*bench.Result) string {
		return func(res *bench.Result) string { return chart.FormatMicros(f(res.Summary)) }
	}
	add("p50", true, micros(func(s bench.Summary) float64 { return s.P50.Median }))
	add("p90", true, micros(func(s bench.Summary) float64 { return s.P90.Median }))
	if page {
		add("p99", true, micros(func(s bench.Summary) float64 { return s.P99.Median }))
	} else {
		add("p99 [min–max]", true, func(res *bench.Result) string {
			s := res.Summary.P99
			return fmt.Sprintf("%s [%s–%s]", chart.FormatMicros(s.Median), chart.FormatMicros(s.Min), chart.FormatMicros(s.Max))
		})
	}
	add("p99.9", true, micros(func(s bench.Summary) float64 { return s.P999.Median }))
	add("max", true, micros(func(s bench.Summary) float64 { return s.Max.Max }))
	add("srv µs/call", true, func(res *bench.Result) string {
		if !srv(res) {
			return "-"
		}
		return fmtNum(res.Summary.ServerCPUPer1k.Median, 1)
	})
	add("cli µs/call", true, func(res *bench.Result) string { return fmtNum(res.Summary.ClientCPUPer1k.Median, 1) })
	srvAllocs := func(res *bench.Result) string {
		if !srv(res) {
			return "-"
		}
		return fmtNum(res.Summary.ServerAllocsPerCall.Median, 1)
	}
	rss := func(res *bench.Result) string {
		switch {
		case !srv(res):
			return "-"
		case res.Summary.ServerRSSMiB.Max == 0:
			return "n/a" // not read on this OS
		}
		return fmtNum(res.Summary.ServerRSSMiB.Median, 0)
	}
	if page {
		add("B/call in", true, func(res *bench.Result) string {
			return bytes(res, func(s bench.Summary) string { return fmtNum(s.BytesInPerCall.Median, 0) })
		})
		add("B/call out", true, func(res *bench.Result) string {
			return bytes(res, func(s bench.Summary) string { return fmtNum(s.BytesOutPerCall.Median, 0) })
		})
		add("srv allocs/call", true, srvAllocs)
		add("cli allocs/call", true, func(res *bench.Result) string { return fmtNum(res.Summary.ClientAllocsPerCall.Median, 1) })
		add("srv RSS MiB", true, rss)
	} else {
		add("B/call in/out", true, func(res *bench.Result) string {
			return bytes(res, func(s bench.Summary) string {
				return fmtNum(s.BytesInPerCall.Median, 0) + "/" + fmtNum(s.BytesOutPerCall.Median, 0)
			})
		})
		add("allocs/call srv/cli", true, func(res *bench.Result) string {
			return srvAllocs(res) + "/" + fmtNum(res.Summary.ClientAllocsPerCall.Median, 1)
		})
		add("srv RSS", true, func(res *bench.Result) string {
			if v := rss(res); v != "-" && v != "n/a" {
				return v + " MiB"
			}
			return rss(res)
		})
	}
	if ok, _ := g.connMemory(); ok {
		per := func(f func(bench.Summary) bench.Stat, prec int) func(*bench.Result) string {
			return func(res *bench.Result) string {
				if !hasConnMemory(res) {
					return "-"
				}
				return fmtNum(f(res.Summary).Median, prec)
			}
		}
		add("KiB/conn RSS", true, per(func(s bench.Summary) bench.Stat { return s.RSSPerConnKiB }, 1))
		add("KiB/conn heap", true, per(func(s bench.Summary) bench.Stat { return s.HeapPerConnKiB }, 1))
		add("goroutines/conn", true, per(func(s bench.Summary) bench.Stat { return s.GoroutinesPerConn }, 2))
	}
	add("errors", false, errorsText)
	if c.OpenLoop() {
		add("late", false, func(res *bench.Result) string { return strconv.FormatUint(res.Summary.Late, 10) })
		add("unsent", false, func(res *bench.Result) string { return strconv.FormatUint(res.Summary.Unsent, 10) })
	}
	if c.Resilience {
		add("retries/call", true, func(res *bench.Result) string { return fmtNum(res.Summary.RetriesPerCall.Median, 3) })
		add("breaker chg", false, func(res *bench.Result) string { return strconv.FormatInt(res.Summary.BreakerChanges, 10) })
	}
	return cols
}

// ranks are the positions of g's results: "-" for the reference, which
// is the yardstick, and for a result that failed, which has no place.
func (g group) ranks() []string {
	var pos []string
	n := 0
	for _, res := range g.results {
		if isReference(res) || res.Summary.Failed {
			pos = append(pos, "-")
			continue
		}
		n++
		pos = append(pos, strconv.Itoa(n))
	}
	return pos
}

// connNote explains the memory-per-connection columns of g, if it has
// them.
func (g group) connNote() string {
	ok, n := g.connMemory()
	if !ok {
		return ""
	}
	conns := "the connections"
	if n > 0 {
		conns = fmtCount(uint64(n)) + " connections"
	}
	return fmt.Sprintf("memory per connection (settled, %s): the server's RSS, live heap and goroutines with them open, less before the clients dialed, divided by their number.", conns)
}

// WriteTable writes the side-by-side table, one per load point.
func WriteTable(w io.Writer, r *bench.Report) error {
	c := r.Config
	fmt.Fprintf(w, "%s\n", c.Describe())
	fmt.Fprintf(w, "%s, %s/%s, %d CPUs (%s), GOMAXPROCS %d", r.Env.GoVersion, r.Env.OS, r.Env.Arch, r.Env.NumCPU, r.Env.CPUModel, r.Env.GOMAXPROCS)
	if r.Env.Commit != "" {
		fmt.Fprintf(w, ", commit %.12s", r.Env.Commit)
	}
	fmt.Fprintln(w)
	for _, l := range r.Env.Limits {
		fmt.Fprintln(w, l)
	}
	if r.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: the figures are of what was measured before Ctrl-C")
	}
	for _, g := range groups(r) {
		fmt.Fprintf(w, "\n%s — median of rounds [min–max]\n", g.label())
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		cols := columns(r, g, false)
		hdr := []string{"#"}
		for _, col := range cols {
			hdr = append(hdr, col.head)
		}
		fmt.Fprintln(tw, strings.Join(hdr, "\t"))
		for i, res := range g.results {
			cells := []string{g.ranks()[i]}
			said := false
			for _, col := range cols {
				switch {
				case !col.figure || !res.Summary.Failed:
					cells = append(cells, col.cell(res))
				case !said:
					cells = append(cells, failedText)
					said = true
				default:
					cells = append(cells, "–")
				}
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if n := g.connNote(); n != "" {
			fmt.Fprintln(w, n)
		}
	}
	fmt.Fprintln(w, "\ncalls/s: successful calls per second; err %: failed calls over all calls. ×ref: successful calls/s over the bare TCP ping-pong's in the same round (–: no reference). CPU µs/call = ms per 1000 calls, from each process's own accounting.")
	if c.InProcess {
		fmt.Fprintln(w, "Servers ran in the generator's process: server CPU, allocations and memory cannot be told apart from the client's (shown under cli).")
	}
	for _, res := range r.Results {
		if len(res.Samples) > 0 && res.Samples[0].ServerLate {
			fmt.Fprintln(w, "n/a and -: a server answered for its accounting too late to bracket the measured window (a process busy with thousands of connections can take seconds), so its CPU, allocations and bytes are not known.")
			break
		}
	}
	return nil
}

// Failures describes, one line each in run order, every result of r
// where calls failed: "raw, concurrency 2000: 1,234 of 1,300 calls failed
// (unavailable:1200 deadline_exceeded:34)", and for a result where none
// succeeded, a line that says so. None: every call of the run succeeded
// (a point not reached before an interrupt is not a failure). The
// command prints them and fails the run on them.
func Failures(r *bench.Report) []string {
	nm := namingOf(r.Config)
	var out []string
	for _, res := range r.Results {
		s := res.Summary
		if len(res.Samples) == 0 || !troubled(s) {
			continue
		}
		where := res.Transport + ", " + group{groupKey: keyOf(res), naming: nm}.label()
		switch {
		case s.Calls == 0:
			out = append(out, where+": FAILED, no call completed")
		case s.Failed:
			out = append(out, fmt.Sprintf("%s: FAILED, no call succeeded: %s of %s calls failed (%s)", where, fmtCount(s.Errors), fmtCount(s.Calls), errorsText(res)))
		default:
			out = append(out, fmt.Sprintf("%s: %s of %s calls failed (%s)", where, fmtCount(s.Errors), fmtCount(s.Calls), errorsText(res)))
		}
	}
	return out
}
