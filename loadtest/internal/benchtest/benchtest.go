// Package benchtest holds what the tests of the engine (bench), the
// reports (report) and the command share: quick configurations, one real
// run made once per test binary, and a check that an HTML report is a
// self-contained page with its charts.
package benchtest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/registry"
	"golang.org/x/net/html"
)

// ShortConfig is a quick run: one round of 100 ms warm-up and 200 ms
// measured per transport.
func ShortConfig(transports []string) bench.Config {
	c := bench.DefaultConfig()
	c.Transports = transports
	c.Rounds = 1
	c.Warmup = 100 * time.Millisecond
	c.Duration = 200 * time.Millisecond
	c.Concurrency = []int{4}
	c.Workload.Accounts = 1000
	return c
}

var (
	sampleOnce sync.Once
	sample     *bench.Report
	sampleErr  error
)

// SampleReport is a real, quick run, made once: the reference and the
// first transport, in this process, at two concurrencies over two rounds.
func SampleReport(t *testing.T) *bench.Report {
	t.Helper()
	sampleOnce.Do(func() {
		c := ShortConfig(registry.Names(false)[:1])
		c.InProcess = true
		c.Rounds = 2
		c.Warmup = 50 * time.Millisecond
		c.Duration = 150 * time.Millisecond
		c.Concurrency = []int{1, 4}
		sample, sampleErr = bench.Run(context.Background(), c, nil)
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sample
}

// CheckHTML checks that page parses, has a table and an inline SVG chart
// in the section of every id in charts, and loads nothing from outside.
func CheckHTML(t *testing.T, page []byte, charts []string) {
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
