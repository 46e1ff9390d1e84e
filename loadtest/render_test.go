package loadtest

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/loadtest/registry"

	"golang.org/x/net/html"
)

var (
	sampleOnce sync.Once
	sample     *Report
	sampleErr  error
)

// sampleReport is a real, quick run: the reference and the first
// transport, in this process, at two concurrencies over two rounds.
func sampleReport(t *testing.T) *Report {
	t.Helper()
	sampleOnce.Do(func() {
		c := shortConfig(registry.Names(false)[:1])
		c.InProcess = true
		c.Rounds = 2
		c.Warmup = 50 * time.Millisecond
		c.Duration = 150 * time.Millisecond
		c.Concurrency = []int{1, 4}
		sample, sampleErr = Run(context.Background(), c, nil)
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sample
}

func TestWriteTable(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"closed loop, 1,4 callers", "concurrency 1 —", "concurrency 4 —", "calls/s [min–max]", registry.ReferenceName, rep.Config.Transports[0], "p99.9"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestWriteTableLimits checks that a report taken where some figures
// cannot be read says so: a line per limit, "n/a" for the server's RSS.
func TestWriteTableLimits(t *testing.T) {
	rep := *sampleReport(t)
	if runtime.GOOS == "linux" && len(rep.Env.Limits) != 0 {
		t.Errorf("limits on Linux: %q", rep.Env.Limits)
	}
	rep.Env.Limits = []string{"CPU pinning: unavailable on plan9", "server RSS: unavailable on plan9"}
	rep.Results = append([]*Result(nil), rep.Results...)
	res := *rep.Results[len(rep.Results)-1]
	smp := *res.Samples[0]
	smp.ServerOwnProc, smp.ServerRSSBytes = true, 0
	res.Samples = []*Sample{&smp}
	res.Summary.ServerRSSMiB = Stat{}
	rep.Results[len(rep.Results)-1] = &res
	var b bytes.Buffer
	if err := WriteTable(&b, &rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range append(rep.Env.Limits, "n/a") {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := WriteCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	measured := 0
	for _, r := range rep.Results {
		if len(r.Samples) > 0 {
			measured++
		}
	}
	if len(rows) != 1+measured {
		t.Fatalf("%d rows, want a header and %d", len(rows), measured)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	for _, row := range rows[1:] {
		if v, err := strconv.ParseFloat(row[5], 64); err != nil || v <= 0 {
			t.Errorf("row %v: throughput %q", row, row[5])
		}
	}
}

func TestWriteBench(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := WriteBench(&b, rep); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		n++
		f := strings.Fields(line)
		// name, iterations, then value-unit pairs
		if len(f) < 4 || len(f)%2 != 0 || !strings.Contains(f[0], "/transport=") {
			t.Errorf("not a benchmark line: %q", line)
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			t.Errorf("iterations %q", f[1])
		}
		for i := 2; i < len(f); i += 2 {
			if _, err := strconv.ParseFloat(f[i], 64); err != nil {
				t.Errorf("value %q in %q", f[i], line)
			}
		}
	}
	want := 0
	for _, r := range rep.Results {
		for _, s := range r.Samples {
			if s.Calls > 0 {
				want++
			}
		}
	}
	if n != want || n == 0 {
		t.Errorf("%d benchmark lines, want one per round with calls (%d)", n, want)
	}
}

// TestWriteHTML checks that the page parses, has a table, has an inline
// SVG chart in every chart section, and loads nothing from outside.
func TestWriteHTML(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	checkHTML(t, b.Bytes(), []string{"throughput", "latency", "cpu", "bytes"})
}

func checkHTML(t *testing.T, page []byte, charts []string) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, k string) string {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val
			}
		}
		return ""
	}
	svgs := map[string]int{}
	tables := 0
	var walk func(n *html.Node, section string)
	walk = func(n *html.Node, section string) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "section":
				section = attr(n, "id")
			case "svg":
				svgs[section]++
			case "table":
				tables++
			case "script", "link", "img", "iframe":
				t.Errorf("page has a <%s>: it must be self-contained", n.Data)
			}
			if src := attr(n, "src"); src != "" {
				t.Errorf("<%s src=%q>: page must not load anything", n.Data, src)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, section)
		}
	}
	walk(doc, "")
	if tables == 0 {
		t.Error("no table")
	}
	for _, c := range charts {
		if svgs[c] == 0 {
			t.Errorf("section %q has no chart", c)
		}
	}
}

// TestReportCommand saves a run as JSON and renders it again with "loadtest
// report", alone and compared with itself.
func TestReportCommand(t *testing.T) {
	rep := sampleReport(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	if err := writeFile(path, rep, WriteJSON); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	csvPath, htmlPath, benchPath := filepath.Join(dir, "r.csv"), filepath.Join(dir, "r.html"), filepath.Join(dir, "r.txt")
	if code := Main([]string{"report", "-csv", csvPath, "-html", htmlPath, "-bench", benchPath, path}, &out, &errb); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errb.String())
	}
	var want bytes.Buffer
	WriteTable(&want, rep)
	if out.String() != want.String() {
		t.Errorf("report's table differs from the run's:\n%s\nwant:\n%s", out.String(), want.String())
	}
	for _, p := range []string{csvPath, htmlPath, benchPath} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}

	out.Reset()
	cmpHTML := filepath.Join(dir, "cmp.html")
	if code := Main([]string{"report", "-html", cmpHTML, path, path}, &out, &errb); code != 0 {
		t.Fatalf("report A B: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "calls/s A") || !strings.Contains(out.String(), "+0.0%") {
		t.Errorf("comparison:\n%s", out.String())
	}
	page, err := os.ReadFile(cmpHTML)
	if err != nil {
		t.Fatal(err)
	}
	checkHTML(t, page, []string{"throughput", "latency", "cpu", "bytes"})
	if !strings.Contains(string(page), registry.ReferenceName+" (B)") {
		t.Error("comparison page does not tag the runs")
	}
}
