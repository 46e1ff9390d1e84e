package overload

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
)

// Config is one "loadtest overload" experiment.
type Config struct {
	Transports []string `json:"transports"`
	// Capacity, if above 0, is the servers' capacity in calls/s; 0: Run
	// measures it through each transport first.
	Capacity float64 `json:"capacity,omitempty"`
	// Multiples are the offered loads, as multiples of the capacity.
	Multiples []float64 `json:"multiples"`
	// Backend is every server's resource of fixed capacity.
	Backend server.Backend `json:"backend"`
	// MaxCalls and Queue are the admission control of the shedding
	// servers (-max-calls, -call-queue).
	MaxCalls int `json:"max_calls"`
	Queue    int `json:"call_queue"`
	// Timeout is every call's deadline, as a real client has one.
	Timeout time.Duration `json:"timeout_ns"`
	// Warmup and Duration are those of every load point.
	Warmup   time.Duration `json:"warmup_ns"`
	Duration time.Duration `json:"duration_ns"`
	// Modes are the shedding modes to run, in order: false is off.
	Modes []bool `json:"modes"`
}

// DefaultConfig is "loadtest overload" with no flags: raw sockets and
// gRPC, a backend of 8 workers at 8 ms a call (1,000 calls/s), shedding
// at 8 calls in progress with a queue of 16, a 500 ms deadline per call,
// and 0.5, 1, 2 and 3 times the measured capacity, off then on, 0.2 s
// warm-up and 1 s measured per point: about 35 seconds on two cores.
func DefaultConfig() Config {
	return Config{
		Transports: []string{"raw", "grpc"},
		Multiples:  []float64{0.5, 1, 2, 3},
		Backend:    server.Backend{Slots: 8, Time: 8 * time.Millisecond},
		MaxCalls:   8,
		Queue:      16,
		Timeout:    500 * time.Millisecond,
		Warmup:     200 * time.Millisecond,
		Duration:   time.Second,
		Modes:      []bool{false, true},
	}
}

// Validate checks c.
func (c *Config) Validate() error {
	if len(c.Transports) == 0 {
		return errors.New("no transport to run")
	}
	for _, n := range c.Transports {
		if _, ok := registry.Lookup(n); !ok || n == registry.ReferenceName {
			return fmt.Errorf("unknown transport %q", n)
		}
	}
	switch {
	case !c.Backend.On():
		return errors.New("a backend is needed: without one, the capacity is the machine's and the load generator shares it")
	case len(c.Multiples) == 0:
		return errors.New("no offered load")
	case c.MaxCalls < 1 || c.Queue < 0:
		return fmt.Errorf("max calls %d, queue %d: want at least 1 and 0", c.MaxCalls, c.Queue)
	case c.Timeout <= 0 || c.Duration <= 0 || c.Warmup < 0:
		return errors.New("timeout and duration must be above 0, warm-up 0 or more")
	case c.Capacity < 0 || math.IsNaN(c.Capacity):
		return fmt.Errorf("capacity %g: want 0 (measure it) or more", c.Capacity)
	case len(c.Modes) == 0:
		return errors.New("no shedding mode")
	}
	for _, m := range c.Multiples {
		if !(m > 0 && m <= 100) {
			return fmt.Errorf("multiple %g: want more than 0, at most 100", m)
		}
	}
	return nil
}

// Report is what an experiment measured; "loadtest overload -json" saves
// it.
type Report struct {
	Kind    string            `json:"kind"`
	Format  int               `json:"format"`
	Started time.Time         `json:"started"`
	Env     bench.Environment `json:"environment"`
	Config  Config            `json:"config"`
	// Capacity is the capacity measured (or given) per transport, calls/s.
	Capacity map[string]float64 `json:"capacity"`
	Points   []Point            `json:"points"`
}

// Kind and Format mark a saved overload experiment.
const (
	Kind   = "overload"
	Format = 1
)

// Point is one transport at one offered load, shedding off or on.
type Point struct {
	Transport string  `json:"transport"`
	Shedding  bool    `json:"shedding"`
	Multiple  float64 `json:"multiple"`
	Offered   float64 `json:"offered"` // calls/s
	// Goodput is the successful calls per second.
	Goodput float64 `json:"goodput"`
	// P50 and P99 are the latency of the successful calls, from their
	// intended send time, in microseconds.
	P50 float64 `json:"p50_us"`
	P99 float64 `json:"p99_us"`
	// Calls were made in the window; Shed of them were refused
	// (unavailable), Failed failed otherwise (deadline exceeded, ...).
	Calls  uint64            `json:"calls"`
	Shed   uint64            `json:"shed"`
	Failed uint64            `json:"failed"`
	Errors map[string]uint64 `json:"errors,omitempty"`
	Late   uint64            `json:"late,omitempty"`
	Unsent uint64            `json:"unsent,omitempty"`
}

// Progress receives a one-line status while the experiment goes on.
type Progress func(line string)

// Run runs the experiment c: for each transport, the capacity (measured
// unless given), then each mode's sweep of offered loads against a server
// of its own.
func Run(ctx context.Context, c Config, progress Progress) (*Report, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	say := func(format string, a ...any) {
		if progress != nil {
			progress(fmt.Sprintf(format, a...))
		}
	}
	rep := &Report{Kind: Kind, Format: Format, Started: time.Now().UTC(), Env: bench.CurrentEnvironment(), Config: c, Capacity: map[string]float64{}}
	for _, t := range c.Transports {
		capacity := c.Capacity
		if capacity == 0 {
			say("%s: measuring capacity", t)
			var err error
			if capacity, err = measureCapacity(ctx, c, t); err != nil {
				return rep, fmt.Errorf("%s: capacity: %w", t, err)
			}
		}
		rep.Capacity[t] = capacity
		for _, shedding := range c.Modes {
			say("%s: shedding %s, %d offered loads", t, onOff(shedding), len(c.Multiples))
			pts, err := sweep(ctx, c, t, capacity, shedding)
			rep.Points = append(rep.Points, pts...)
			if err != nil {
				return rep, fmt.Errorf("%s, shedding %s: %w", t, onOff(shedding), err)
			}
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
		}
	}
	return rep, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// benchConfig is the bench.Config of t's server with the backend, and
// with admission control if shedding.
func benchConfig(c Config, t string, shedding bool) bench.Config {
	bc := bench.DefaultConfig()
	bc.Transports, bc.Reference, bc.Rounds = []string{t}, false, 1
	bc.Warmup, bc.Duration, bc.Timeout = c.Warmup, c.Duration, c.Timeout
	bc.Backend = c.Backend
	if shedding {
		bc.Shed = cli.ShedFlags{MaxCalls: c.MaxCalls, Queue: c.Queue}
	}
	return bc
}

// measureCapacity is a closed loop of four callers per backend worker,
// shedding off: the successful calls per second of a server kept busy.
func measureCapacity(ctx context.Context, c Config, t string) (float64, error) {
	bc := benchConfig(c, t, false)
	bc.Concurrency = []int{4 * c.Backend.Slots}
	bc.Warmup, bc.Duration = 200*time.Millisecond, time.Second
	r, err := bench.Run(ctx, bc, nil)
	if err != nil {
		return 0, err
	}
	if len(r.Results) != 1 || len(r.Results[0].Samples) != 1 {
		return 0, errors.New("nothing measured")
	}
	got := r.Results[0].Samples[0].Successful()
	if got <= 0 {
		return 0, errors.New("no call succeeded")
	}
	return got, nil
}

// sweep runs the offered loads of c against one server of t, in the
// order given (ascending by default: an overloaded point's backlog would
// otherwise spill into a lighter one).
func sweep(ctx context.Context, c Config, t string, capacity float64, shedding bool) ([]Point, error) {
	bc := benchConfig(c, t, shedding)
	most := 0.0
	for _, m := range c.Multiples {
		bc.Rates = append(bc.Rates, math.Round(m*capacity))
		most = max(most, m*capacity)
	}
	// Enough callers that a call waiting out its whole deadline never
	// holds back the next: the server, not the generator, must be what
	// queues.
	bc.Concurrency = []int{max(256, int(math.Ceil(most*c.Timeout.Seconds()*1.25)))}
	r, err := bench.Run(ctx, bc, nil)
	if r == nil {
		return nil, err
	}
	var pts []Point
	for i, res := range r.Results {
		if len(res.Samples) == 0 {
			continue
		}
		s := res.Samples[0]
		p := Point{Transport: t, Shedding: shedding, Multiple: c.Multiples[i], Offered: res.Rate, Goodput: s.Successful(),
			Calls: s.Calls, Late: s.Late, Unsent: s.Unsent}
		if lat := s.SuccessLatency(); lat != nil && s.Errors < s.Calls {
			p.P50, p.P99 = lat.P50, lat.P99
		}
		if all := s.Ops["all"]; all != nil {
			p.Errors = all.ErrorsByCode
			for code, n := range all.ErrorsByCode {
				if code == bank.Unavailable.String() {
					p.Shed += n
				} else {
					p.Failed += n
				}
			}
		}
		pts = append(pts, p)
	}
	return pts, err
}
