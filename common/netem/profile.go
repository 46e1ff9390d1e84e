package netem

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Profile is an emulated network between clients and a server.
type Profile struct {
	Name    string        `json:"name"`               // "loopback", "lan", "wan", "longhaul", or "custom"
	Latency time.Duration `json:"one_way_latency_ns"` // one-way
	// Jitter varies each one-way latency by up to this much either way,
	// uniformly, so the round trip of each chunk the server writes by the
	// sum of two such draws; it never reorders bytes.
	Jitter time.Duration `json:"jitter_ns,omitempty"`
	Up     Bandwidth     `json:"up_bps,omitempty"`   // client to server; 0: unlimited
	Down   Bandwidth     `json:"down_bps,omitempty"` // server to client; 0: unlimited
}

// Bandwidth is a link's rate in bits per second (decimal units, as links
// are sold: 1 Mbit/s is 1,000,000 bits/s).
type Bandwidth int64

const (
	kbit Bandwidth = 1000
	mbit           = 1000 * kbit
	gbit           = 1000 * mbit
)

// The presets are those of grpc-go's benchmark/latency (its Local, LAN,
// WAN and Longhaul networks), so that our figures can be set beside theirs.
var (
	// Loopback is no emulation at all: the machine's own loopback.
	Loopback = Profile{Name: "loopback"}
	// LAN is 2 ms one-way and 100 Mbit/s each way.
	LAN = Profile{Name: "lan", Latency: 2 * time.Millisecond, Up: 100 * mbit, Down: 100 * mbit}
	// WAN is 30 ms one-way and 20 Mbit/s each way.
	WAN = Profile{Name: "wan", Latency: 30 * time.Millisecond, Up: 20 * mbit, Down: 20 * mbit}
	// LongHaul is 200 ms one-way and 1 Gbit/s each way.
	LongHaul = Profile{Name: "longhaul", Latency: 200 * time.Millisecond, Up: gbit, Down: gbit}
)

var presets = []Profile{Loopback, LAN, WAN, LongHaul}

// ErrProfile is wrapped by every error of Parse.
var ErrProfile = errors.New("netem: invalid network profile")

const customPrefix = "custom:"

// Parse reads a profile: a preset's name ("loopback", "lan", "wan",
// "longhaul") or "custom:" and colon-separated keys, as in
// "custom:latency=20ms:jitter=2ms:up=10mbit:down=100mbit". Latency is
// required, the other keys are optional and each key appears at most once.
// Durations are Go durations; bandwidths are a whole number of bits per
// second with an optional unit kbit, mbit or gbit. Negative values,
// values that overflow, and a jitter larger than the latency (which would
// make a delay negative) are refused with an error wrapping ErrProfile.
func Parse(s string) (Profile, error) {
	for _, p := range presets {
		if s == p.Name {
			return p, nil
		}
	}
	spec, ok := strings.CutPrefix(s, customPrefix)
	if !ok {
		return Profile{}, fmt.Errorf(`%w %q: want "loopback", "lan", "wan", "longhaul" or "custom:latency=...[:jitter=...][:up=...][:down=...]"`, ErrProfile, s)
	}
	p := Profile{Name: "custom"}
	seen := map[string]bool{}
	for kv := range strings.SplitSeq(spec, ":") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return Profile{}, fmt.Errorf("%w %q: %q is not key=value", ErrProfile, s, kv)
		}
		if seen[k] {
			return Profile{}, fmt.Errorf("%w %q: %s given twice", ErrProfile, s, k)
		}
		seen[k] = true
		var err error
		switch k {
		case "latency":
			p.Latency, err = parseDuration(v)
		case "jitter":
			p.Jitter, err = parseDuration(v)
		case "up":
			p.Up, err = parseBandwidth(v)
		case "down":
			p.Down, err = parseBandwidth(v)
		default:
			err = errors.New("unknown key (want latency, jitter, up or down)")
		}
		if err != nil {
			return Profile{}, fmt.Errorf("%w %q: %s: %v", ErrProfile, s, k, err)
		}
	}
	if !seen["latency"] {
		return Profile{}, fmt.Errorf("%w %q: latency is required", ErrProfile, s)
	}
	if p.Jitter > p.Latency {
		return Profile{}, fmt.Errorf("%w %q: jitter %v exceeds latency %v", ErrProfile, s, p.Jitter, p.Latency)
	}
	return p, nil
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %v", d)
	}
	return d, nil
}

func parseBandwidth(v string) (Bandwidth, error) {
	unit := Bandwidth(1)
	for _, u := range []struct {
		suffix string
		b      Bandwidth
	}{{"kbit", kbit}, {"mbit", mbit}, {"gbit", gbit}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, unit = n, u.b
			break
		}
	}
	// Digits only: ParseInt alone would take a sign.
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, fmt.Errorf("want a whole number of bits/s with an optional unit kbit, mbit or gbit")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || Bandwidth(n) > math.MaxInt64/unit {
		return 0, fmt.Errorf("%s overflows", v)
	}
	return Bandwidth(n) * unit, nil
}

// String returns the preset's name, or the canonical custom form that
// Parse reads back to p: "custom:latency=20ms", then jitter, up and down
// where they are not zero. The zero Profile is "loopback".
func (p Profile) String() string {
	if p == (Profile{}) {
		return Loopback.Name
	}
	for _, q := range presets {
		if p == q {
			return q.Name
		}
	}
	var b strings.Builder
	b.WriteString(customPrefix + "latency=" + p.Latency.String())
	if p.Jitter != 0 {
		b.WriteString(":jitter=" + p.Jitter.String())
	}
	if p.Up != 0 {
		b.WriteString(":up=" + formatBandwidth(p.Up))
	}
	if p.Down != 0 {
		b.WriteString(":down=" + formatBandwidth(p.Down))
	}
	return b.String()
}

func formatBandwidth(b Bandwidth) string {
	for _, u := range []struct {
		suffix string
		b      Bandwidth
	}{{"gbit", gbit}, {"mbit", mbit}, {"kbit", kbit}} {
		if b%u.b == 0 {
			return strconv.FormatInt(int64(b/u.b), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// RTT is the round trip the profile adds: twice the one-way latency,
// without the time to serialize any bytes at its bandwidth.
func (p Profile) RTT() time.Duration { return 2 * p.Latency }

// Emulated reports whether p emulates anything; when it does not (the
// loopback and the zero Profile), Listener and Conn return their argument
// as it is, so that the loopback figures carry no cost of this package.
func (p Profile) Emulated() bool {
	return p.Latency != 0 || p.Jitter != 0 || p.Up != 0 || p.Down != 0
}
