package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/igbank/igbank/loadtest/hostile"
	"github.com/igbank/igbank/loadtest/registry"
)

func hostileMain(args []string, stdout, stderr io.Writer) int {
	var c hostile.Config
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: loadtest hostile [flags]

The hostile suite at full scale. For each transport and each attack class, it
starts a fresh server process with the transport's default limits, gives one
account a month of 1,000 deposits, and attacks the server from this process
while a well-behaved client makes a call from a new connection every 250 ms.
Each row says how many of those calls were answered during the attack (and the
first after how long), whether the client was answered afterwards, the server's
RSS and live heap before, at the peak and after (settled by debug.FreeOSMemory),
how long the heap took to come back within 8 MiB of where it was, and what the
attacker saw: connections opened, connections the server cut, GOAWAYs.

Classes: idle (1,500 connections that send nothing), churn, unfinished (every
byte of a request but the last), drip (a byte every 100 ms), garbage,
slow-reader (32 statement pages never read; not on HTTP/2), and on HTTP/2
rapid-reset, stalled-window (a receive window of 0) and unfinished-streams.
The attacks stay on loopback. The exit status is 1 if any attack left the
well-behaved client unanswered during or after it.

Flags:
`)
		fs.PrintDefaults()
	}
	transports := fs.String("transports", "", "comma-separated `names` to attack (default: every transport's default variant; known: "+strings.Join(registry.Names(false), ", ")+")")
	classes := fs.String("classes", "", "comma-separated attack `classes` (default: every class that applies)")
	fs.IntVar(&c.Options.Conns, "conns", 0, "connections (or workers) per attack (0: the class's default)")
	fs.DurationVar(&c.Options.Duration, "duration", 0, "how long each attack lasts (0: 10s)")
	fs.DurationVar(&c.Options.Settle, "settle", 0, "how long to wait after an attack for the server's heap to come back (0: 30s)")
	jsonOut := fs.String("json", "", "write the results as JSON to `FILE`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest hostile: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	c.Transports = splitList(*transports)
	for _, name := range splitList(*classes) {
		c.Classes = append(c.Classes, hostile.Class(name))
	}
	if err := checkClasses(c.Classes); err != nil {
		fmt.Fprintf(stderr, "loadtest hostile: -classes: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	results, err := hostile.RunSuite(ctx, c, func(r hostile.Result) {
		fmt.Fprintf(stderr, "%s %s: answered %d/%d\n", r.Transport, r.Class, r.Answered, r.Probes)
	})
	hostile.WriteText(stdout, results)
	if *jsonOut != "" {
		if err := writeOut(*jsonOut, func(w io.Writer) error { return hostile.WriteJSON(w, results) }); err != nil {
			fmt.Fprintf(stderr, "loadtest hostile: %v\n", err)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest hostile: %v\n", err)
		return 1
	}
	for _, r := range results {
		if r.Err != "" || r.Answered == 0 || !r.AnsweredAfter {
			return 1
		}
	}
	return 0
}

// checkClasses refuses a class name the suite does not know.
func checkClasses(cs []hostile.Class) error {
	known := map[hostile.Class]bool{}
	for _, c := range hostile.Classes(true) {
		known[c] = true
	}
	known[hostile.SlowReader] = true
	for _, c := range cs {
		if !known[c] {
			return fmt.Errorf("unknown class %q", c)
		}
	}
	return nil
}
