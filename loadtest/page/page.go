// Package page is the one HTML page shell of the load generator's
// reports (the benchmark, the fault lab, the herd demo): the head with
// its single inline stylesheet, the heading, and the boxes that keep wide
// content inside the page (Wide: a table wider than the page scrolls
// sideways in its own box; Pair: two things side by side, their charts
// scaled to fit). A page is self-contained, with no script and nothing
// fetched; its charts come from package chart.
package page

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// style is the stylesheet of every report. Cells hold figures, aligned
// right, unless of class l (text, aligned left); ok, fail and err colour
// an outcome.
const style = `<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}` +
	`table{border-collapse:collapse;font-size:12px}.wrap{overflow-x:auto}` +
	`td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}.l{text-align:left}` +
	`td.ok{background:#dff0d8;text-align:center}td.fail{background:#f2dede;text-align:center;font-weight:bold}td.err{background:#eee;text-align:center}` +
	`section{margin:2em 0}pre{background:#f6f6f6;padding:1em;white-space:pre-wrap}.note{color:#555;font-size:13px}` +
	`.pair{display:flex;gap:1em;align-items:flex-start}.pair>div{flex:1 1 0;min-width:0}.pair svg{max-width:100%;height:auto}</style>`

// Page is a report page being written: New writes the head and the
// heading, the caller the body (Page is an io.Writer), Finish the end.
type Page struct {
	b strings.Builder
}

// New starts a page titled title.
func New(title string) *Page {
	p := &Page{}
	t := html.EscapeString(title)
	fmt.Fprintf(&p.b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>\n%s</head><body><h1>%s</h1>\n", t, style, t)
	return p
}

// Write appends HTML to the body.
func (p *Page) Write(b []byte) (int, error) { return p.b.Write(b) }

// WriteString appends HTML to the body.
func (p *Page) WriteString(s string) (int, error) { return p.b.WriteString(s) }

// Printf appends HTML to the body, formatted.
func (p *Page) Printf(format string, a ...any) { fmt.Fprintf(&p.b, format, a...) }

// Wide writes what body writes (a table) in a box that scrolls sideways
// when it is wider than the page.
func (p *Page) Wide(body func()) {
	p.b.WriteString(`<div class="wrap">`)
	body()
	p.b.WriteString("</div>")
}

// Pair writes what left and right write side by side, each half the
// page's width, their charts scaled down to fit.
func (p *Page) Pair(left, right func()) {
	p.b.WriteString(`<div class="pair"><div>`)
	left()
	p.b.WriteString("</div><div>")
	right()
	p.b.WriteString("</div></div>\n")
}

// Finish ends the page and writes it to w.
func (p *Page) Finish(w io.Writer) error {
	p.b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, p.b.String())
	return err
}
