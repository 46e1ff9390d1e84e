// Package chart draws the charts of every HTML report of the load
// generator (the benchmark, the fault lab, the herd demo) as inline SVG:
// line and scatter charts (Lines) on linear or logarithmic axes, with
// marks drawn into the plot area before the series (Span, Rule, or any
// Mark of the caller's), and horizontal stacked bars (Bars). Each chart is
// one self-contained <svg> element, with no script and nothing fetched, so
// that a report can be mailed, archived or opened offline; package page
// holds the page around it. (A chart library would need JavaScript or a
// dependency for these few kinds of plot.)
package chart

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1b9e77", "#d95f02", "#7570b3", "#e7298a"}

// Color is the i-th colour of the palette every report draws its series
// in, round again after the last.
func Color(i int) string { return palette[i%len(palette)] }

// Point is one point of a series, in data units.
type Point struct{ X, Y float64 }

// Series is one named, coloured set of points. A series with no points
// appears in the legend only, as a key to the marks.
type Series struct {
	Name   string
	Color  string
	Points []Point
	Dots   bool // points only, not joined by a line (a scatter plot)
	// Dash, an SVG dash array ("5 4"), draws the line dashed, and its key
	// in the legend as a dashed line: two figures of one thing (p50 and
	// p99 of a transport) in its one colour.
	Dash string
}

// The size of every chart, and the margins of a line chart's plot area
// (the right one holds the legend).
const (
	width, height = 760, 380
	padL, padR    = 70, 190
	padT, padB    = 30, 50
)

// Axis is the range an axis shows, linear or logarithmic (base 10).
type Axis struct {
	Min, Max float64
	Log      bool
}

// pos maps v to the pixel between lo (at Min) and hi (at Max).
func (a Axis) pos(v float64, lo, hi float64) float64 {
	var f float64
	if a.Log {
		if v <= 0 {
			v = a.Min
		}
		f = (math.Log10(v) - math.Log10(a.Min)) / (math.Log10(a.Max) - math.Log10(a.Min))
	} else {
		f = (v - a.Min) / (a.Max - a.Min)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return lo + f*(hi-lo)
}

// NiceAxis is an axis that shows every one of vals, with round ends: from
// 0 to a round step above the largest, or (log) from the power of ten at
// or below the smallest positive value to the one at or above the
// largest.
func NiceAxis(vals []float64, log bool) Axis {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if log && v <= 0 {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 1, 10
	}
	if log {
		lo = math.Pow(10, math.Floor(math.Log10(lo)))
		hi = math.Pow(10, math.Ceil(math.Log10(hi)))
		if hi <= lo {
			hi = lo * 10
		}
		return Axis{lo, hi, true}
	}
	lo = 0
	if hi <= 0 {
		hi = 1
	}
	step := niceStep(hi / 5)
	hi = math.Ceil(hi/step) * step
	return Axis{lo, hi, false}
}

func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func (a Axis) ticks() []float64 {
	var t []float64
	if a.Log {
		for v := a.Min; v <= a.Max*1.0001; v *= 10 {
			t = append(t, v)
		}
		return t
	}
	step := niceStep(a.Max / 5)
	for v := a.Min; v <= a.Max*1.0001; v += step {
		t = append(t, v)
	}
	return t
}

func svgOpen(b *strings.Builder, title string, h, titleX int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, width, h, width, h, html.EscapeString(title))
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`, titleX, html.EscapeString(title))
}

func legend(b *strings.Builder, ss []Series) {
	for i, s := range ss {
		y := padT + 10 + i*18
		if s.Dash != "" {
			fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`,
				width-padR+12, y-4, width-padR+28, y-4, s.Color, s.Dash)
		} else {
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`, width-padR+15, y-10, s.Color)
		}
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="12">%s</text>`, width-padR+32, y, html.EscapeString(s.Name))
	}
}

// FormatRate formats calls per second: 123456 -> "123.5k".
func FormatRate(x float64) string {
	switch {
	case x >= 1e6:
		return strconv.FormatFloat(x/1e6, 'f', 2, 64) + "M"
	case x >= 1e3:
		return strconv.FormatFloat(x/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

// FormatMicros formats a latency given in microseconds: "850µs",
// "1.25ms", "12.5ms", "1.20s".
func FormatMicros(us float64) string {
	switch {
	case us >= 1e6:
		return strconv.FormatFloat(us/1e6, 'f', 2, 64) + "s"
	case us >= 1e4:
		return strconv.FormatFloat(us/1e3, 'f', 1, 64) + "ms"
	case us >= 1e3:
		return strconv.FormatFloat(us/1e3, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(us, 'f', 0, 64) + "µs"
}
