package page_test

import (
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/page"
	"golang.org/x/net/html"
)

// TestPage writes a page with a wide table and a pair: it parses, it is
// self-contained, the title is escaped, and the boxes hold what was
// written into them.
func TestPage(t *testing.T) {
	p := page.New("A & B")
	p.Wide(func() { p.WriteString("<table><tr><td>1</td></tr></table>") })
	p.Pair(func() { p.Printf("<p>%s</p>", "left") }, func() { p.Printf("<p>%s</p>", "right") })
	var b strings.Builder
	if err := p.Finish(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	if _, err := html.Parse(strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "<title>A &amp; B</title>", "<h1>A &amp; B</h1>", `<div class="wrap"><table>`,
		`<div class="pair"><div><p>left</p></div><div><p>right</p></div></div>`, "</body></html>\n"} {
		if !strings.Contains(doc, want) {
			t.Errorf("page lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "<script") || strings.Contains(doc, " src=") || strings.Contains(doc, "<link") {
		t.Error("page is not self-contained")
	}
}
