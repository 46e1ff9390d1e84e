package chart_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/chart"
)

// elements parses svg as XML and lists its elements in document order.
func elements(t *testing.T, svg string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var out []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			out = append(out, se.Name.Local)
		}
	}
}

// TestLinesMarks draws a chart with a span, a rule and a mark of the
// caller's: the SVG is one well-formed element, the marks come before the
// series (they must not hide the points), and the legend-only series is
// in the legend without a line.
func TestLinesMarks(t *testing.T) {
	svg := chart.Lines{
		Title: "a & b", XLabel: "ms", YLabel: "calls",
		Series: []chart.Series{
			{Name: "ok", Color: chart.Color(0), Points: []chart.Point{{0, 1}, {50, 3}, {100, 2}}},
			{Name: "key only", Color: "#999"},
		},
		X: chart.NiceAxis([]float64{0, 100}, false), Y: chart.NiceAxis([]float64{1, 3}, false),
		Marks: []chart.Mark{
			chart.Span{From: 20, To: 40, Color: "#e15759", Title: "fault on"},
			chart.Rule{At: 60, Color: "#000", Label: "server back"},
			upright("60 ms: open → closed"),
		},
	}.SVG()
	els := elements(t, svg)
	if els[0] != "svg" || !strings.HasSuffix(svg, "</svg>") || strings.Count(svg, "<svg") != 1 {
		t.Fatalf("not one <svg> element: %s", svg)
	}
	if n := strings.Count(svg, "<polyline"); n != 1 {
		t.Errorf("%d lines, want 1 (a series without points has none)", n)
	}
	for _, want := range []string{"a &amp; b", "fault on", "server back", "key only", `stroke-dasharray="4 3"`, `transform="rotate(-90`, "60 ms: open → closed"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	if strings.Index(svg, "fault on") > strings.Index(svg, "<polyline") || strings.Index(svg, "server back") > strings.Index(svg, "<circle") {
		t.Errorf("marks drawn after the series")
	}
}

type upright string

func (u upright) Draw(c *chart.Canvas) {
	x := c.X(60)
	c.VLine(x, "#1b9e77", 1.5, "4 3", string(u))
	c.Text(x+10, c.Top+3, 10, "end", true, string(u))
}

// TestBars checks a stacked bar chart with a range whisker and a legend.
func TestBars(t *testing.T) {
	svg := chart.Bars{Title: "CPU", Unit: "µs", Parts: []string{"server", "client"},
		Rows:   []chart.Bar{{Label: "raw", Values: []float64{3, 4}, Min: 6, Max: 8}, {Label: "grpc", Values: []float64{10, 12}}},
		Format: func(v float64) string { return fmt.Sprintf("%.1f", v) }}.SVG()
	elements(t, svg)
	for _, want := range []string{"raw server: 3.0", "grpc client: 12.0", ">22.0<", ">server<", ">client<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

func TestNiceAxis(t *testing.T) {
	for _, tc := range []struct {
		vals []float64
		log  bool
		want chart.Axis
	}{
		{[]float64{3, 17}, false, chart.Axis{Min: 0, Max: 20}},
		{[]float64{0, 130, 7}, true, chart.Axis{Min: 1, Max: 1000, Log: true}},
		{nil, true, chart.Axis{Min: 1, Max: 10, Log: true}},
	} {
		if got := chart.NiceAxis(tc.vals, tc.log); got != tc.want {
			t.Errorf("NiceAxis(%v, %v) = %+v, want %+v", tc.vals, tc.log, got, tc.want)
		}
	}
}

func ExampleFormatMicros() {
	fmt.Println(chart.FormatMicros(850), chart.FormatMicros(1250), chart.FormatMicros(12_500), chart.FormatMicros(1_200_000))
	fmt.Println(chart.FormatRate(950), chart.FormatRate(123_456), chart.FormatRate(2_500_000))
	// Output:
	// 850µs 1.25ms 12.5ms 1.20s
	// 950 123.5k 2.50M
}

// TestLinesDashAndDiagonal checks a dashed series (line and legend key)
// and the y = x diagonal, drawn before the series from the corner where
// both axes start to the one where both end.
func TestLinesDashAndDiagonal(t *testing.T) {
	svg := chart.Lines{
		Title: "achieved", XLabel: "offered", YLabel: "achieved",
		Series: []chart.Series{
			{Name: "raw p50", Color: chart.Color(0), Dash: "5 4", Points: []chart.Point{{10, 10}, {100, 90}}},
			{Name: "raw p99", Color: chart.Color(0), Points: []chart.Point{{10, 10}, {100, 60}}},
		},
		X: chart.Axis{Min: 1, Max: 1000, Log: true}, Y: chart.Axis{Min: 1, Max: 1000, Log: true},
		Marks: []chart.Mark{chart.Diagonal{Color: "#999", Label: "achieved = offered"}},
	}.SVG()
	elements(t, svg)
	if n := strings.Count(svg, `stroke-dasharray="5 4"`); n != 2 {
		t.Errorf("%d dashed elements, want the line and its legend key", n)
	}
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Errorf("%d lines, want 2", n)
	}
	// The plot runs from (70, 330) to (570, 30): y = x on equal log axes
	// is its diagonal.
	if !strings.Contains(svg, `<line x1="70.0" y1="330.0" x2="570.0" y2="30.0" stroke="#999" stroke-width="1" stroke-dasharray="4 3"><title>achieved = offered</title></line>`) {
		t.Errorf("no diagonal:\n%s", svg)
	}
	if strings.Index(svg, "achieved = offered") > strings.Index(svg, "<polyline") {
		t.Errorf("diagonal drawn after the series")
	}
}
