package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Bars is a chart of horizontal bars, one per row, each a stack of parts.
type Bars struct {
	Title string
	Unit  string   // the value axis's label
	Parts []string // names of the parts of a stack, in order: the legend (when more than one)
	Rows  []Bar
	// Format labels the ticks, the totals and the tooltips (nil: the
	// value).
	Format func(float64) string
}

// Bar is one row of a bar chart.
type Bar struct {
	Label  string
	Values []float64 // stacked, one per part
	// Min and Max, if Max > 0, are a range drawn across the bar as a
	// whisker (min–max over rounds).
	Min, Max float64
}

// SVG draws the chart.
func (c Bars) SVG() string {
	valFmt := c.Format
	if valFmt == nil {
		valFmt = func(v float64) string { return fmt.Sprint(v) }
	}
	var b strings.Builder
	h := padT + 20 + len(c.Rows)*26 + padB
	svgOpen(&b, c.Title, h, 10)
	left, right := 150.0, float64(width-padR)
	var totals []float64
	for _, r := range c.Rows {
		t := 0.0
		for _, v := range r.Values {
			t += v
		}
		totals = append(totals, math.Max(t, r.Max))
	}
	xa := NiceAxis(totals, false)
	for _, t := range xa.ticks() {
		x := xa.pos(t, left, right)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>`, x, padT, x, h-padB+5, x, h-padB+20, valFmt(t))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>`, (left+right)/2, h-10, html.EscapeString(c.Unit))
	for i, r := range c.Rows {
		y := padT + 10 + i*26
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" text-anchor="end">%s</text>`, left-6, y+14, html.EscapeString(r.Label))
		x := left
		total := 0.0
		for j, v := range r.Values {
			w := xa.pos(v, left, right) - left
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="18" fill="%s"><title>%s %s: %s</title></rect>`, x, y, math.Max(w, 0), Color(j), html.EscapeString(r.Label), html.EscapeString(c.Parts[j]), valFmt(v))
			x += w
			total += v
		}
		labelX := x
		if r.Max > 0 {
			a, z := xa.pos(r.Min, left, right), xa.pos(r.Max, left, right)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000"/>`, a, y+9, z, y+9)
			labelX = math.Max(labelX, z)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11">%s</text>`, labelX+4, y+14, valFmt(total))
	}
	if len(c.Parts) > 1 {
		var ss []Series
		for j, p := range c.Parts {
			ss = append(ss, Series{Name: p, Color: Color(j)})
		}
		legend(&b, ss)
	}
	b.WriteString("</svg>")
	return b.String()
}
