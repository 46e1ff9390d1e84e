package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Lines is a line chart, or with Dots series a scatter plot.
type Lines struct {
	Title, XLabel, YLabel string
	Series                []Series
	X, Y                  Axis
	// XTicks are where the x axis is labelled (nil: the axis's own
	// ticks), XTickLabel names them (nil: the value) and YFormat labels
	// the y ticks and the points' tooltips (nil: the value).
	XTicks     []float64
	XTickLabel func(float64) string
	YFormat    func(float64) string
	// Marks are drawn into the plot area after the grid and the axes and
	// before the series, in order.
	Marks []Mark
}

// A Mark annotates a line chart: a shaded span, a rule, a label.
type Mark interface {
	Draw(c *Canvas)
}

// Canvas is a line chart's plot area as a Mark draws on it: data
// coordinates mapped to pixels, and the elements a mark is made of.
type Canvas struct {
	b    *strings.Builder
	x, y Axis
	// Left, Right, Bottom and Top are the plot area's edges in pixels
	// (SVG's y grows downwards: Bottom > Top).
	Left, Right, Bottom, Top float64
}

// X is the pixel of the data value v on the x axis.
func (c *Canvas) X(v float64) float64 { return c.x.pos(v, c.Left, c.Right) }

// Y is the pixel of the data value v on the y axis.
func (c *Canvas) Y(v float64) float64 { return c.y.pos(v, c.Bottom, c.Top) }

// Band shades the plot's full height from pixel x0 to x1 (at least one
// pixel wide), with a tooltip if title is set.
func (c *Canvas) Band(x0, x1 float64, fill string, opacity float64, title string) {
	c.elem("rect", fmt.Sprintf(`x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="%g"`,
		x0, c.Top, math.Max(x1-x0, 1), c.Bottom-c.Top, fill, opacity), title)
}

// VLine draws a vertical line across the plot at pixel x: width 0 is
// the default stroke, dash an SVG dash array ("4 3") or "" for a solid
// line, title a tooltip.
func (c *Canvas) VLine(x float64, stroke string, width float64, dash, title string) {
	c.Line(x, c.Bottom, x, c.Top, stroke, width, dash, title)
}

// Text writes s at pixel (x, y) in a font of size px, anchored "start",
// "middle" or "end"; upright turns it to read upwards from (x, y).
func (c *Canvas) Text(x, y float64, size int, anchor string, upright bool, s string) {
	fmt.Fprintf(c.b, `<text x="%.1f" y="%.1f" font-size="%d"`, x, y, size)
	if anchor != "" && anchor != "start" {
		fmt.Fprintf(c.b, ` text-anchor="%s"`, anchor)
	}
	if upright {
		fmt.Fprintf(c.b, ` transform="rotate(-90 %.1f %.1f)"`, x, y)
	}
	fmt.Fprintf(c.b, `>%s</text>`, html.EscapeString(s))
}

func (c *Canvas) elem(tag, attrs, title string) {
	if title == "" {
		fmt.Fprintf(c.b, `<%s %s/>`, tag, attrs)
		return
	}
	fmt.Fprintf(c.b, `<%s %s><title>%s</title></%s>`, tag, attrs, html.EscapeString(title), tag)
}

// Span shades the x range From to To (data units) over the plot's
// height: an outage, a fault window.
type Span struct {
	From, To float64
	Color    string
	Opacity  float64 // 0: 0.18
	Title    string  // tooltip
}

// Draw draws the span.
func (s Span) Draw(c *Canvas) {
	op := s.Opacity
	if op == 0 {
		op = 0.18
	}
	c.Band(c.X(s.From), c.X(s.To), s.Color, op, s.Title)
}

// Rule is a dashed vertical line at At (data units) across the plot,
// with a label beside its top: an event on a time axis.
type Rule struct {
	At    float64
	Color string
	Label string
	Title string // tooltip
}

// Draw draws the rule.
func (r Rule) Draw(c *Canvas) {
	x := c.X(r.At)
	c.VLine(x, r.Color, 0, "4 3", r.Title)
	if r.Label != "" {
		c.Text(x+3, c.Top+12, 11, "", false, r.Label)
	}
}

// Line draws a straight line between two pixels: width 0 is the default
// stroke, dash an SVG dash array or "" for a solid line, title a
// tooltip.
func (c *Canvas) Line(x0, y0, x1, y1 float64, stroke string, width float64, dash, title string) {
	attrs := fmt.Sprintf(`x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"`, x0, y0, x1, y1, stroke)
	if width > 0 {
		attrs += fmt.Sprintf(` stroke-width="%g"`, width)
	}
	if dash != "" {
		attrs += fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	c.elem("line", attrs, title)
}

// Diagonal is the dashed line y = x over the range both axes show, with
// a label at its end: where what was achieved equals what was asked (the
// calls per second served against those offered), so that a transport
// that falls behind is seen to leave it.
type Diagonal struct {
	Color string
	Label string
}

// Draw draws the diagonal.
func (d Diagonal) Draw(c *Canvas) {
	lo, hi := math.Max(c.x.Min, c.y.Min), math.Min(c.x.Max, c.y.Max)
	if hi <= lo {
		return
	}
	c.Line(c.X(lo), c.Y(lo), c.X(hi), c.Y(hi), d.Color, 1, "4 3", d.Label)
	if d.Label != "" {
		c.Text(c.X(hi)-3, c.Y(hi)+12, 11, "end", false, d.Label)
	}
}

// SVG draws the chart.
func (l Lines) SVG() string {
	yFmt, xLbl := l.YFormat, l.XTickLabel
	if yFmt == nil {
		yFmt = func(v float64) string { return fmt.Sprint(v) }
	}
	if xLbl == nil {
		xLbl = func(v float64) string { return fmt.Sprint(v) }
	}
	var b strings.Builder
	svgOpen(&b, l.Title, height, padL)
	x0, x1 := float64(padL), float64(width-padR)
	y0, y1 := float64(height-padB), float64(padT)
	for _, t := range l.Y.ticks() {
		y := l.Y.pos(t, y0, y1)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" font-size="11" text-anchor="end">%s</text>`, x0, y, x1, y, x0-5, y+4, yFmt(t))
	}
	xTicks := l.XTicks
	if xTicks == nil {
		xTicks = l.X.ticks()
	}
	for _, t := range xTicks {
		x := l.X.pos(t, x0, x1)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/><text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>`, x, y0, x, y1, x, y0+15, html.EscapeString(xLbl(t)))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`, x0, y0, x1, y0, x0, y0, x0, y1)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>`, (x0+x1)/2, height-10, html.EscapeString(l.XLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.1f" font-size="12" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`, (y0+y1)/2, (y0+y1)/2, html.EscapeString(l.YLabel))
	c := &Canvas{b: &b, x: l.X, y: l.Y, Left: x0, Right: x1, Bottom: y0, Top: y1}
	for _, m := range l.Marks {
		m.Draw(c)
	}
	for _, s := range l.Series {
		var pts []string
		for _, p := range s.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", l.X.pos(p.X, x0, x1), l.Y.pos(p.Y, y0, y1)))
		}
		if len(pts) > 1 && !s.Dots {
			dash := ""
			if s.Dash != "" {
				dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.Dash)
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, s.Color, dash, strings.Join(pts, " "))
		}
		for _, p := range s.Points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %s</title></circle>`, l.X.pos(p.X, x0, x1), l.Y.pos(p.Y, y0, y1), s.Color, html.EscapeString(s.Name), yFmt(p.Y))
		}
	}
	legend(&b, l.Series)
	b.WriteString("</svg>")
	return b.String()
}
