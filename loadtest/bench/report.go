package bench

import (
	"math"
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Report is everything one run measured; it is what "loadtest run -json"
// saves (package report writes and reads it) and "loadtest report" reads.
type Report struct {
	Kind        string      `json:"kind"`   // Kind: a benchmark run, among the files the tool saves
	Format      int         `json:"format"` // Format, the version of this layout
	Started     time.Time   `json:"started"`
	Env         Environment `json:"environment"`
	Config      Config      `json:"config"`
	Interrupted bool        `json:"interrupted,omitempty"` // stopped by Ctrl-C: what was measured is kept
	Results     []*Result   `json:"results"`
}

// Kind and Format mark a saved benchmark run: the kind of file (the fault
// lab saves another), and the version of its layout. Format 1 was this
// layout under "version", without a kind.
const (
	Kind   = "bench"
	Format = 2
)

// Environment describes where a run was taken.
type Environment struct {
	GoVersion  string   `json:"go_version"`
	OS         string   `json:"os"`
	Arch       string   `json:"arch"`
	CPUModel   string   `json:"cpu_model"`
	NumCPU     int      `json:"num_cpu"`
	GOMAXPROCS int      `json:"gomaxprocs"`
	Commit     string   `json:"commit,omitempty"`
	Kernel     string   `json:"kernel,omitempty"`
	Hostname   string   `json:"hostname,omitempty"`
	Args       []string `json:"args"`
	// Limits says what the generator cannot do or measure on this OS, one
	// line each, "CPU pinning: unavailable on darwin"; none on Linux.
	Limits []string `json:"limits,omitempty"`
}

// ShortCommit is the workspace commit abbreviated to 12 characters, or
// "no commit".
func (e Environment) ShortCommit() string {
	if len(e.Commit) > 12 {
		return e.Commit[:12]
	}
	if e.Commit == "" {
		return "no commit"
	}
	return e.Commit
}

// Result is one transport at one load point (a concurrency or a rate),
// over all rounds.
type Result struct {
	Transport   string  `json:"transport"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate,omitempty"` // open loop: calls per second
	Connections int     `json:"connections"`
	Security    string  `json:"security,omitempty"` // "" or SecurityPlain: plaintext
	Churn       bool    `json:"churn,omitempty"`    // a new connection per call
	// Network is the network profile the point ran under (netem.Profile's
	// String: "loopback", "lan", "wan", "longhaul" or "custom:...").
	Network string `json:"network"`
	// StatementRows is the transactions seeded in the statement month of
	// the statement accounts (Config.StatementRows; meaningful only when
	// that is set).
	StatementRows int       `json:"statement_rows"`
	Samples       []*Sample `json:"samples"` // one per round
	Summary       Summary   `json:"summary"`
}

// Sample is one transport measured once (one round at one load point).
type Sample struct {
	Round       int     `json:"round"`
	ElapsedNs   int64   `json:"elapsed_ns"` // the measured window
	Calls       uint64  `json:"calls"`
	Errors      uint64  `json:"errors"`
	Throughput  float64 `json:"throughput"`          // calls per second
	RefRatio    float64 `json:"ref_ratio,omitempty"` // successful calls per second over the reference's
	Late        uint64  `json:"late,omitempty"`      // open loop: sent 1 ms or more behind schedule
	Unsent      uint64  `json:"unsent,omitempty"`    // open loop: due in the window, never sent
	Retries     int64   `json:"retries,omitempty"`
	BreakerChgs int64   `json:"breaker_changes,omitempty"`

	ClientCPUNs    int64  `json:"client_cpu_ns"`
	ServerCPUNs    int64  `json:"server_cpu_ns"` // 0 when the server ran in this process
	ClientAllocs   uint64 `json:"client_allocs"`
	ServerAllocs   uint64 `json:"server_allocs"`
	BytesIn        uint64 `json:"bytes_in"`  // client to server
	BytesOut       uint64 `json:"bytes_out"` // server to client
	ServerRSSBytes uint64 `json:"server_rss_bytes"`
	ServerOwnProc  bool   `json:"server_own_process"`
	// ServerLate marks a sample whose server answered for its accounting
	// too late to bracket the measured window (a process overwhelmed by
	// thousands of connections can take seconds to): its CPU, allocations
	// and bytes are unknown, and left at 0.
	ServerLate bool `json:"server_stats_late,omitempty"`
	// Per-connection memory, where the run opened its own connections
	// (Result.Connections > 0) and the server is its own process: the
	// server's settled accounting (two collections, memory returned to the
	// OS) before the clients dialed, and after the measured window with
	// every connection still open. OpenConns is how many the clients held
	// then.
	Idle      *ConnStats `json:"idle,omitempty"`
	Connected *ConnStats `json:"connected,omitempty"`
	OpenConns int        `json:"open_conns,omitempty"`
	// Stuck counts callers whose call was cut off by the run's own
	// deadline (Errors includes them, with their code): a dial that never
	// completed, a server at its limit that neither answered nor refused.
	Stuck          uint64               `json:"stuck,omitempty"`
	Ops            map[string]*OpResult `json:"ops"`                       // balance, statement, deposit and "all"
	ServiceLatency *OpResult            `json:"service_latency,omitempty"` // open loop: from the actual send
	// Succeeded is the latency of the successful calls alone, all
	// operations together, when some failed (nil: none failed, and
	// Ops["all"] is it). An overloaded server's refusals are fast: they
	// would make the latency of all calls look better than what the
	// callers that were served saw.
	Succeeded *OpResult `json:"succeeded,omitempty"`
}

// SuccessLatency is the latency of the sample's successful calls
// (Succeeded, or Ops["all"] when no call failed).
func (s *Sample) SuccessLatency() *OpResult {
	if s.Succeeded != nil {
		return s.Succeeded
	}
	return s.Ops["all"]
}

// withoutFailed returns the histogram all less the calls of failed, both
// of the same layout (hdrNew): the latency of the calls that succeeded.
func withoutFailed(all, failed *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	a, f := all.Export(), failed.Export()
	counts := make([]int64, len(a.Counts))
	for i, n := range a.Counts {
		if i < len(f.Counts) {
			n -= f.Counts[i]
		}
		counts[i] = max(n, 0)
	}
	a.Counts = counts
	return hdrhistogram.Import(a)
}

// Successful is the sample's successful calls per second: what the
// ranking and the ratio to the reference are of.
func (s *Sample) Successful() float64 {
	if s.ElapsedNs <= 0 || s.Errors >= s.Calls {
		return 0
	}
	return float64(s.Calls-s.Errors) / (float64(s.ElapsedNs) / 1e9)
}

// ConnStats is a server's settled memory and goroutines at one instant.
type ConnStats struct {
	RSSBytes      uint64 `json:"rss_bytes"`
	LiveHeapBytes uint64 `json:"live_heap_bytes"`
	Goroutines    uint64 `json:"goroutines"`
}

// OpResult is the latency and errors of one operation in one sample.
// Latencies are in microseconds.
type OpResult struct {
	Calls        uint64            `json:"calls"`
	Errors       uint64            `json:"errors"`
	ErrorsByCode map[string]uint64 `json:"errors_by_code,omitempty"`
	Mean         float64           `json:"mean_us"`
	P50          float64           `json:"p50_us"`
	P90          float64           `json:"p90_us"`
	P99          float64           `json:"p99_us"`
	P999         float64           `json:"p999_us"`
	Max          float64           `json:"max_us"`
	// Hist is the full histogram (nanoseconds), in HdrHistogram's
	// compressed base64 encoding.
	Hist string `json:"hist"`
}

// Stat is a figure over rounds: the median and the range.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Summary holds the figures the table shows, each over the rounds.
type Summary struct {
	Throughput Stat `json:"throughput"`
	// Successful is successful calls per second (Throughput less errors):
	// what the ranking orders by.
	Successful Stat `json:"successful"`
	// ErrorRate is errors over calls, over all rounds (0 to 1).
	ErrorRate float64 `json:"error_rate"`
	// Failed marks a point where no call succeeded in any round: a failure
	// of the run, never a row of zeros.
	Failed bool `json:"failed,omitempty"`
	// Per connection (Sample.Idle and Connected), over the rounds: RSS and
	// live heap in KiB, goroutines.
	RSSPerConnKiB       Stat              `json:"rss_per_conn_kib"`
	HeapPerConnKiB      Stat              `json:"heap_per_conn_kib"`
	GoroutinesPerConn   Stat              `json:"goroutines_per_conn"`
	RefRatio            Stat              `json:"ref_ratio"`
	P50                 Stat              `json:"p50_us"`
	P90                 Stat              `json:"p90_us"`
	P99                 Stat              `json:"p99_us"`
	P999                Stat              `json:"p999_us"`
	Max                 Stat              `json:"max_us"`
	ServerCPUPer1k      Stat              `json:"server_cpu_ms_per_1k"` // ms of CPU per 1000 calls = µs per call
	ClientCPUPer1k      Stat              `json:"client_cpu_ms_per_1k"`
	BytesInPerCall      Stat              `json:"bytes_in_per_call"`
	BytesOutPerCall     Stat              `json:"bytes_out_per_call"`
	ServerAllocsPerCall Stat              `json:"server_allocs_per_call"`
	ClientAllocsPerCall Stat              `json:"client_allocs_per_call"`
	ServerRSSMiB        Stat              `json:"server_rss_mib"`
	RetriesPerCall      Stat              `json:"retries_per_call"`
	Calls               uint64            `json:"calls"`
	Errors              uint64            `json:"errors"`
	ErrorsByCode        map[string]uint64 `json:"errors_by_code,omitempty"`
	Late                uint64            `json:"late,omitempty"`
	Unsent              uint64            `json:"unsent,omitempty"`
	BreakerChanges      int64             `json:"breaker_changes,omitempty"`
}

func statOf(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1]}
}

func perCall(x float64, calls uint64) float64 {
	if calls == 0 {
		return 0
	}
	return x / float64(calls)
}

// Summarize computes r.Summary from r.Samples.
func (r *Result) Summarize() {
	var s Summary
	col := func(f func(*Sample) float64) Stat {
		xs := make([]float64, 0, len(r.Samples))
		for _, smp := range r.Samples {
			xs = append(xs, f(smp))
		}
		return statOf(xs)
	}
	op := func(smp *Sample) *OpResult {
		if o := smp.Ops["all"]; o != nil {
			return o
		}
		return &OpResult{}
	}
	s.Throughput = col(func(x *Sample) float64 { return x.Throughput })
	s.Successful = col((*Sample).Successful)
	s.RefRatio = col(func(x *Sample) float64 { return x.RefRatio })
	s.P50 = col(func(x *Sample) float64 { return op(x).P50 })
	s.P90 = col(func(x *Sample) float64 { return op(x).P90 })
	s.P99 = col(func(x *Sample) float64 { return op(x).P99 })
	s.P999 = col(func(x *Sample) float64 { return op(x).P999 })
	s.Max = col(func(x *Sample) float64 { return op(x).Max })
	s.ServerCPUPer1k = col(func(x *Sample) float64 { return perCall(float64(x.ServerCPUNs), x.Calls) / 1e3 })
	s.ClientCPUPer1k = col(func(x *Sample) float64 { return perCall(float64(x.ClientCPUNs), x.Calls) / 1e3 })
	s.BytesInPerCall = col(func(x *Sample) float64 { return perCall(float64(x.BytesIn), x.Calls) })
	s.BytesOutPerCall = col(func(x *Sample) float64 { return perCall(float64(x.BytesOut), x.Calls) })
	s.ServerAllocsPerCall = col(func(x *Sample) float64 { return perCall(float64(x.ServerAllocs), x.Calls) })
	s.ClientAllocsPerCall = col(func(x *Sample) float64 { return perCall(float64(x.ClientAllocs), x.Calls) })
	s.ServerRSSMiB = col(func(x *Sample) float64 { return float64(x.ServerRSSBytes) / (1 << 20) })
	s.RetriesPerCall = col(func(x *Sample) float64 { return perCall(float64(x.Retries), x.Calls) })
	for _, smp := range r.Samples {
		s.Calls += smp.Calls
		s.Errors += smp.Errors
		s.Late += smp.Late
		s.Unsent += smp.Unsent
		s.BreakerChanges += smp.BreakerChgs
		for c, n := range op(smp).ErrorsByCode {
			if s.ErrorsByCode == nil {
				s.ErrorsByCode = map[string]uint64{}
			}
			s.ErrorsByCode[c] += n
		}
	}
	if s.Calls > 0 {
		s.ErrorRate = float64(s.Errors) / float64(s.Calls)
	}
	s.Failed = len(r.Samples) > 0 && s.Errors >= s.Calls
	var withConns []*Sample
	for _, smp := range r.Samples {
		if smp.Idle != nil && smp.Connected != nil && smp.OpenConns > 0 {
			withConns = append(withConns, smp)
		}
	}
	if len(withConns) > 0 {
		per := func(f func(*ConnStats) uint64, scale float64) Stat {
			xs := make([]float64, 0, len(withConns))
			for _, smp := range withConns {
				d := float64(f(smp.Connected)) - float64(f(smp.Idle))
				xs = append(xs, d/float64(smp.OpenConns)/scale)
			}
			return statOf(xs)
		}
		s.RSSPerConnKiB = per(func(c *ConnStats) uint64 { return c.RSSBytes }, 1024)
		s.HeapPerConnKiB = per(func(c *ConnStats) uint64 { return c.LiveHeapBytes }, 1024)
		s.GoroutinesPerConn = per(func(c *ConnStats) uint64 { return c.Goroutines }, 1)
	}
	r.Summary = s
}

// opResult turns a histogram (nanoseconds) and error counts into an
// OpResult.
func opResult(h *hdrhistogram.Histogram, errs *[numCodes]uint64, calls uint64) *OpResult {
	o := &OpResult{Calls: calls}
	for c, n := range errs {
		if n > 0 {
			if o.ErrorsByCode == nil {
				o.ErrorsByCode = map[string]uint64{}
			}
			o.ErrorsByCode[codeName(c)] += n
			o.Errors += n
		}
	}
	fillPercentiles(o, h)
	if b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err == nil {
		o.Hist = string(b)
	}
	return o
}

func fillPercentiles(o *OpResult, h *hdrhistogram.Histogram) {
	if h.TotalCount() == 0 {
		return
	}
	us := func(v int64) float64 { return math.Round(float64(v)/10) / 100 }
	o.Mean = math.Round(h.Mean()/10) / 100
	o.P50 = us(h.ValueAtQuantile(50))
	o.P90 = us(h.ValueAtQuantile(90))
	o.P99 = us(h.ValueAtQuantile(99))
	o.P999 = us(h.ValueAtQuantile(99.9))
	o.Max = us(h.Max())
}

// Histogram decodes o.Hist; it returns nil if there is none.
func (o *OpResult) Histogram() *hdrhistogram.Histogram {
	if o == nil || o.Hist == "" {
		return nil
	}
	h, err := hdrhistogram.Decode([]byte(o.Hist))
	if err != nil {
		return nil
	}
	return h
}

// MergedHistogram merges the histograms of op over every sample of r.
func (r *Result) MergedHistogram(op string) *hdrhistogram.Histogram {
	var m *hdrhistogram.Histogram
	for _, s := range r.Samples {
		h := s.Ops[op].Histogram()
		if h == nil {
			continue
		}
		if m == nil {
			m = hdrhistogram.New(histMin, histMax, histSigFigs)
		}
		m.Merge(h)
	}
	return m
}
