// Command loadtest drives every IGBank transport with the same workload
// and prints them side by side. "go run ./loadtest/cmd/loadtest run" from
// the workspace root is the side-by-side benchmark; "loadtest -h" lists
// the commands.
//
// This is the only package of the load generator that knows flags: each
// subcommand parses its flags into the configuration of the package that
// does the work (run: bench.Config, rendered by report; faults:
// faults.Config; herd: herd.Config; serve: server.Config), calls it, and
// writes the files asked for. Errors of the engine that concern several
// settings come back in the words of the flags (flagWorded).
//
// A server process that "loadtest run" or the fault lab starts is this
// program again; main hands it to server.MaybeServe before anything else.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
)

func main() {
	server.MaybeServe()
	os.Exit(command(os.Args[1:], os.Stdout, os.Stderr))
}

const mainUsage = `usage: loadtest COMMAND [flags]

Commands:
  run      drive every transport with the same workload and print them side by side
  serve    serve one transport (how "run" starts its server processes)
  report   render a saved run (-json) again as a table, CSV, HTML or benchstat text,
           or compare two saved runs
  herd     many clients retrying through an outage, without and with jitter
  overload an open-loop sweep past capacity, without and with load shedding
  faults   partial failures on purpose (Toxiproxy embedded), with an exactly-once audit
  timeouts the attempt timeout swept over a slow link: false suspicions against time to detect an outage
  hostile  attack every server as a hostile peer would, while a well-behaved client calls it
  list     list the registered transports

"loadtest COMMAND -h" describes a command's flags.

The experiments with server replicas in processes of their own are the
cluster command's (they need etcd or PostgreSQL; "cluster COMMAND -h"):
  go run ./cluster/cmd/cluster directory  a directory with leases: failover after SIGKILL, false suspicion after SIGSTOP
  go run ./cluster/cmd/cluster clocks     replicas whose clocks disagree: a key expired early, statements out of order
  go run ./cluster/cmd/cluster fencing    a paused claim holder refused by its fencing token, or applied twice without it
`

// command is the whole loadtest command; it returns the exit status: 0 for
// success, 2 for a malformed command line, 1 for a failed run, 130 for a
// run stopped by Ctrl-C (after writing what it measured).
func command(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return 2
	}
	switch args[0] {
	case "run":
		return runMain(args[1:], stdout, stderr)
	case "serve":
		return serveMain(args[1:], os.Stdin, stdout, stderr)
	case "report":
		return reportMain(args[1:], stdout, stderr)
	case "hostile":
		return hostileMain(args[1:], stdout, stderr)
	case "herd":
		return herdMain(args[1:], stdout, stderr)
	case "faults":
		return faultsMain(args[1:], stdout, stderr)
	case "overload":
		return overloadMain(args[1:], stdout, stderr)
	case "timeouts":
		return timeoutsMain(args[1:], stdout, stderr)
	case "list":
		for _, n := range registry.Names(true) {
			fmt.Fprintln(stdout, n)
		}
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, mainUsage)
		return 0
	}
	fmt.Fprintf(stderr, "loadtest: unknown command %q\n\n%s", args[0], mainUsage)
	return 2
}
