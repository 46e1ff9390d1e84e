// Command replica is the server the clocks and fencing experiments
// (cluster clocks, cluster fencing) run: the cmd/server of any transport
// (-transport NAME, first), with its flags, plus switches that no
// production server has, because they exist only to show a bug:
//
//	-replica-clock      a PostgreSQL store dates transactions and expires
//	                    keys by this replica's wall clock (-clock-offset,
//	                    -clock-drift) instead of the database's
//	-without-fence      the fencing-token check is off
//	-pause-after-claim  the first deposit that claims a key logs "paused
//	                    after claim" and SIGSTOPs this process, before it
//	                    applies the deposit; SIGCONT lets it go on
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/store"
	"github.com/igbank/igbank/transports"
)

// PausedLine is what the replica logs just before it pauses itself.
const PausedLine = "paused after claim"

func main() {
	if len(os.Args) < 3 || os.Args[1] != "-transport" {
		fmt.Fprintf(os.Stderr, "usage: replica -transport NAME [server flags] [-replica-clock] [-without-fence] [-pause-after-claim]\n")
		os.Exit(2)
	}
	d, _, ok := transports.Lookup(os.Args[2])
	if !ok {
		fmt.Fprintf(os.Stderr, "replica: unknown transport %q (known: %s)\n", os.Args[2], strings.Join(transports.Names(), ", "))
		os.Exit(2)
	}
	fs := flag.NewFlagSet("replica", flag.ExitOnError)
	var f cli.ServerFlags
	f.Register(fs, d)
	replicaClock := fs.Bool("replica-clock", false, "experiment: a postgres store trusts this replica's wall clock (the clocks bug)")
	noFence := fs.Bool("without-fence", false, "experiment: no fencing-token check (the fencing bug)")
	pause := fs.Bool("pause-after-claim", false, "experiment: SIGSTOP this process after its first key claim, before applying the deposit")
	fs.Parse(os.Args[3:])
	logger, err := f.Log.Logger(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	slog.SetDefault(logger.With("transport", d.Name))
	if *replicaClock {
		f.StoreOptions = append(f.StoreOptions, store.WithReplicaClock())
	}
	if *noFence {
		f.StoreOptions = append(f.StoreOptions, store.WithoutFence())
	}
	if *pause {
		var once atomic.Bool
		f.StoreOptions = append(f.StoreOptions, store.WithClaimHook(func(_ context.Context, key string, token int64) {
			if once.Swap(true) {
				return
			}
			logger.Warn(fmt.Sprintf("%s of key %s, fencing token %d: SIGSTOP to itself", PausedLine, key, token), "key", key, "fencing_token", token)
			pauseSelf(logger)
			logger.Info("resumed after SIGCONT; applying the deposit with fencing token "+fmt.Sprint(token), "key", key, "fencing_token", token)
		}))
	}
	if err := cli.RunServer(d, &f); err != nil {
		logger.Error(fmt.Sprintf("replica: %v", err))
		os.Exit(1)
	}
}
