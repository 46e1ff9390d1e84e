package herd

import (
	"bytes"
	"context"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/resilience"
)

// TestHerd runs the experiment small (100 clients, a 300 ms outage, two
// jitter modes) and checks the shape that the chart is meant to show, not
// any speed: every client gets through in both modes, every attempt
// reaches the server, and without jitter the attempts that meet the
// recovering server come in a much taller wave than with full jitter.
func TestHerd(t *testing.T) {
	c := DefaultConfig()
	c.Clients = 100
	c.Outage = 300 * time.Millisecond
	c.Modes = []resilience.Jitter{resilience.JitterNone, resilience.JitterFull}
	c.Seed = 42
	rep, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	WriteText(&text, rep)
	t.Log("\n" + text.String())
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs, want 2", len(rep.Runs))
	}
	for _, r := range rep.Runs {
		if r.Succeeded != c.Clients {
			t.Errorf("jitter %s: %d of %d clients succeeded (errors %v)", r.Jitter, r.Succeeded, c.Clients, r.Errors)
		}
		if r.Attempts != r.ServerCalls {
			t.Errorf("jitter %s: clients made %d attempts, the server received %d", r.Jitter, r.Attempts, r.ServerCalls)
		}
		if r.Attempts <= c.Clients || r.MaxAttempts < 2 {
			t.Errorf("jitter %s: %d attempts for %d clients: nobody retried", r.Jitter, r.Attempts, c.Clients)
		}
		if r.DrainMs < float64(c.Outage/time.Millisecond) {
			t.Errorf("jitter %s: drained in %.0f ms, before the %v outage ended", r.Jitter, r.DrainMs, c.Outage)
		}
		sum := 0
		for _, n := range r.Buckets {
			sum += n
		}
		if sum != r.Attempts {
			t.Errorf("jitter %s: buckets add up to %d, want %d", r.Jitter, sum, r.Attempts)
		}
	}
	none, full := rep.Runs[0], rep.Runs[1]
	if none.PeakRecovery <= 2*full.PeakRecovery {
		t.Errorf("peak after recovery: %d without jitter, %d with full jitter; want the first over twice the second", none.PeakRecovery, full.PeakRecovery)
	}

	var page bytes.Buffer
	if err := WriteHTML(&page, rep); err != nil {
		t.Fatal(err)
	}
	b := page.Bytes()
	i := bytes.Index(b, []byte("<svg"))
	j := bytes.LastIndex(b, []byte("</svg>"))
	if i < 0 || j < i {
		t.Fatal("no chart in the page")
	}
	svg := b[i : j+len("</svg>")]
	d := xml.NewDecoder(bytes.NewReader(svg))
	lines := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("chart is not well-formed XML: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if lines != 2 {
		t.Errorf("chart has %d series, want 2", lines)
	}
	for _, want := range []string{"jitter none", "jitter full", "server back"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

// TestHerdCapacity gives the recovering server room for 25 calls per
// 10 ms: the wave of clients without jitter is shed and comes back as
// further waves, while the spread-out retries of full jitter mostly fit.
func TestHerdCapacity(t *testing.T) {
	c := DefaultConfig()
	c.Clients = 100
	c.Outage = 300 * time.Millisecond
	c.Policy.MaxBackoff = 200 * time.Millisecond
	c.Capacity = 25
	c.Modes = []resilience.Jitter{resilience.JitterNone, resilience.JitterFull}
	c.Seed = 42
	rep, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	WriteText(&text, rep)
	t.Log("\n" + text.String())
	none, full := rep.Runs[0], rep.Runs[1]
	for _, r := range rep.Runs {
		if r.Succeeded != c.Clients {
			t.Errorf("jitter %s: %d of %d clients succeeded (errors %v)", r.Jitter, r.Succeeded, c.Clients, r.Errors)
		}
	}
	if none.Shed == 0 || none.Shed <= full.Shed {
		t.Errorf("shed %d calls without jitter, %d with full jitter; want more without", none.Shed, full.Shed)
	}
}
