package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
	"github.com/igbank/igbank/transports"
)

// Config is a run of the suite: every class against every transport, each
// against a fresh server process with the transport's default limits.
type Config struct {
	// Transports are registry names; empty is the default variant of
	// every transport.
	Transports []string
	// Classes to run; empty is every class that applies.
	Classes []Class
	// Options size each attack (Conns 0: DefaultConns).
	Options Options
	// Seed is how many one-cent deposits the attacked account gets in
	// the current month before the attacks (default 1,000: a statement
	// page of the most transactions).
	Seed int
}

// RunSuite runs c, reporting each result to progress as it comes.
func RunSuite(ctx context.Context, c Config, progress func(Result)) ([]Result, error) {
	if c.Seed <= 0 {
		c.Seed = 1000
	}
	type target struct {
		v  transport.Variant
		h2 bool
	}
	var targets []target
	if len(c.Transports) == 0 {
		for _, d := range transports.All {
			targets = append(targets, target{d.Variants[0], d.HTTP2})
		}
	}
	for _, name := range c.Transports {
		d, v, ok := transports.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("unknown transport %q (known: %s)", name, strings.Join(registry.Names(false), ", "))
		}
		targets = append(targets, target{v, d.HTTP2})
	}
	var results []Result
	for _, t := range targets {
		classes := c.Classes
		if len(classes) == 0 {
			classes = Classes(t.h2)
		}
		for _, class := range classes {
			if ctx.Err() != nil {
				return results, ctx.Err()
			}
			r, err := runChild(ctx, t.v, t.h2, class, c)
			if err != nil {
				return results, err
			}
			results = append(results, r)
			if progress != nil {
				progress(r)
			}
		}
	}
	return results, nil
}

// runChild runs one class against a fresh server process of v.
func runChild(ctx context.Context, v transport.Variant, h2 bool, class Class, c Config) (Result, error) {
	sc := server.DefaultConfig()
	sc.Transport = v.Name
	child, err := server.StartChild(sc)
	if err != nil {
		return Result{}, err
	}
	defer child.Close()
	acc, month := ledger.SeedAccount(1), bank.MonthOf(time.Now())
	if err := seed(ctx, v, child.Addr(), acc, c.Seed); err != nil {
		return Result{}, fmt.Errorf("%s: seed: %w", v.Name, err)
	}
	t := Target{Variant: v, HTTP2: h2, Addr: child.Addr(), Account: acc, Month: month,
		Memory: func(settled bool) (Memory, error) {
			stats := child.Stats
			if settled {
				stats = child.SettledStats
			}
			p, err := stats()
			return Memory{LiveHeap: p.LiveHeapBytes, RSSBytes: p.RSSBytes, Goroutines: p.Goroutines}, err
		}}
	return Run(ctx, t, class, c.Options), nil
}

// seed makes n one-cent deposits to acc through a client of v.
func seed(ctx context.Context, v transport.Variant, addr string, acc bank.AccountNo, n int) error {
	c, err := v.Dial(ctx, addr, transport.ClientConfig{})
	if err != nil {
		return err
	}
	defer c.Close()
	for i := range n {
		if _, err := c.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: fmt.Sprintf("hostile-seed-%d", i)}); err != nil {
			return err
		}
	}
	return nil
}

// WriteText writes results as a table.
func WriteText(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "transport\tclass\tconns\tanswered\tfirst answer\tworst\tafter\tRSS MiB before→peak→after\tlive heap MiB before→peak→after\trecovered\topened\tcut\tGOAWAY\t")
	for _, r := range results {
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\t%s\t%d\terror: %s\t\t\t\t\t\t\t\t\t\t\n", r.Transport, r.Class, r.Conns, r.Err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t\n",
			r.Transport, r.Class, r.Conns, r.Answered, r.Probes, dur(r.FirstAnswer), dur(r.Worst), yes(r.AnsweredAfter),
			mib3(r.Before.RSSBytes, r.Peak.RSSBytes, r.After.RSSBytes), mib3(r.Before.LiveHeap, r.Peak.LiveHeap, r.After.LiveHeap),
			dur(r.Recovered), r.Opened, r.Cut, r.GoAway)
	}
	return tw.Flush()
}

// WriteJSON writes results as JSON.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

func dur(d time.Duration) string {
	switch {
	case d < 0:
		return "never"
	case d == 0:
		return "–"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func mib3(a, b, c uint64) string {
	return fmt.Sprintf("%d→%d→%d", a>>20, b>>20, c>>20)
}
