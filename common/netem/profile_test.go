package netem

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		in, canonical string
		want          Profile
	}{
		{"loopback", "loopback", Loopback},
		{"lan", "lan", Profile{Name: "lan", Latency: 2 * ms, Up: 100e6, Down: 100e6}},
		{"wan", "wan", Profile{Name: "wan", Latency: 30 * ms, Up: 20e6, Down: 20e6}},
		{"longhaul", "longhaul", Profile{Name: "longhaul", Latency: 200 * ms, Up: 1e9, Down: 1e9}},
		{"custom:latency=20ms:jitter=2ms:up=10mbit:down=100mbit", "custom:latency=20ms:jitter=2ms:up=10mbit:down=100mbit",
			Profile{Name: "custom", Latency: 20 * ms, Jitter: 2 * ms, Up: 10e6, Down: 100e6}},
		{"custom:down=1gbit:latency=10ms", "custom:latency=10ms:down=1gbit",
			Profile{Name: "custom", Latency: 10 * ms, Down: 1e9}},
		{"custom:latency=0", "custom:latency=0s", Profile{Name: "custom"}},
		{"custom:latency=1.5ms:up=1500kbit", "custom:latency=1.5ms:up=1500kbit",
			Profile{Name: "custom", Latency: 1500 * time.Microsecond, Up: 1.5e6}},
		{"custom:latency=1s:up=12345:down=8000", "custom:latency=1s:up=12345:down=8kbit",
			Profile{Name: "custom", Latency: time.Second, Up: 12345, Down: 8000}},
		{"custom:latency=5ms:jitter=5ms", "custom:latency=5ms:jitter=5ms",
			Profile{Name: "custom", Latency: 5 * ms, Jitter: 5 * ms}},
		// A custom profile equal to a preset's numbers stays custom.
		{"custom:latency=2ms:up=100mbit:down=100mbit", "custom:latency=2ms:up=100mbit:down=100mbit",
			Profile{Name: "custom", Latency: 2 * ms, Up: 100e6, Down: 100e6}},
	} {
		p, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if p != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, p, tc.want)
		}
		if s := p.String(); s != tc.canonical {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, s, tc.canonical)
		}
		if q, err := Parse(p.String()); err != nil || q != p {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", p.String(), q, err, p)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"", "LAN", "lan ", "custom", "custom:", "fast",
		"custom:jitter=1ms",                // no latency
		"custom:latency=",                  // empty value
		"custom:latency",                   // no value
		"custom:latency=10",                // a duration needs a unit
		"custom:latency=-1ms",              // negative
		"custom:latency=10ms:jitter=-1ms",  // negative
		"custom:latency=1ms:jitter=2ms",    // jitter exceeds latency
		"custom:latency=10ms:latency=20ms", // twice
		"custom:latency=10ms:loss=1",       // unknown key
		"custom:latency=10ms::up=1mbit",    // empty field
		"custom:latency=10ms:up=-1mbit",    // negative
		"custom:latency=10ms:up=+1mbit",    // sign
		"custom:latency=10ms:up=1.5mbit",   // not whole
		"custom:latency=10ms:up=10MBit",    // unknown unit
		"custom:latency=10ms:up=mbit",      // no number
		"custom:latency=10ms:up=10mbps",    // unknown unit
		"custom:latency=10ms:down=9223372036854775808",
		"custom:latency=10ms:down=9223372036854776kbit",
		"custom:latency=10ms:down=10000000000gbit",
		"custom:latency=3000000h", // overflows a Duration
	} {
		p, err := Parse(in)
		if !errors.Is(err, ErrProfile) {
			t.Errorf("Parse(%q) = %+v, %v; want an error wrapping ErrProfile", in, p, err)
		}
	}
}

func TestStringOfHandMadeProfiles(t *testing.T) {
	for _, tc := range []struct {
		p    Profile
		want string
	}{
		{Profile{}, "loopback"},
		{Profile{Latency: time.Millisecond}, "custom:latency=1ms"},
		{Profile{Name: "lan", Latency: time.Millisecond}, "custom:latency=1ms"},
		{Profile{Down: 8e6}, "custom:latency=0s:down=8mbit"},
	} {
		if s := tc.p.String(); s != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.p, s, tc.want)
		}
	}
}

func TestRTTAndEmulated(t *testing.T) {
	if WAN.RTT() != 60*time.Millisecond || LongHaul.RTT() != 400*time.Millisecond {
		t.Errorf("RTT: WAN %v, LongHaul %v", WAN.RTT(), LongHaul.RTT())
	}
	if Loopback.Emulated() || (Profile{}).Emulated() {
		t.Error("loopback is emulated")
	}
	for _, p := range []Profile{LAN, WAN, LongHaul, {Name: "custom", Down: 1}} {
		if !p.Emulated() {
			t.Errorf("%v is not emulated", p)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"loopback", "lan", "wan", "longhaul", "custom:latency=0",
		"custom:latency=20ms:jitter=2ms:up=10mbit:down=100mbit",
		"custom:down=1500kbit:latency=1h2m3.000000004s:up=7",
		"custom:latency=2562047h47m16.854775807s:down=9223372036854775807",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrProfile) {
				t.Fatalf("Parse(%q): %v does not wrap ErrProfile", s, err)
			}
			return
		}
		if p.Latency < 0 || p.Jitter < 0 || p.Jitter > p.Latency || p.Up < 0 || p.Down < 0 {
			t.Fatalf("Parse(%q) = %+v", s, p)
		}
		q, err := Parse(p.String())
		if err != nil || q != p {
			t.Fatalf("Parse(%q) = %+v; Parse(%q) = %+v, %v", s, p, p.String(), q, err)
		}
	})
}
