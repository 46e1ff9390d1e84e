package cluster_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/common/store/postgres/pgtest"
)

var replicaBin = sync.OnceValues(func() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return cluster.BuildReplica(ctx, binDir)
})

func replica(t *testing.T) string {
	t.Helper()
	b, err := replicaBin()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fencing experiment in its default form over raw sockets and gRPC:
// without the fence the replica paused past its lease applies the
// deposit a second time (the audit finds the duplicate, its two
// transactions carry the stale and the newer token); with it the stale
// replica is refused and the deposit is applied once, under the newer
// token.
func TestFencingExperimentRaw(t *testing.T)  { testFencing(t, "raw") }
func TestFencingExperimentGRPC(t *testing.T) { testFencing(t, "grpc") }

func testFencing(t *testing.T, tr string) {
	if raceEnabled {
		// A timing experiment (a process paused past a lease): under the
		// race detector, beside the other modules' tests, replica A's
		// self-SIGSTOP was seen not to hold. scripts/test runs it again
		// without -race.
		t.Skip("a timing experiment: run without -race (scripts/test does)")
	}
	cfg := cluster.DefaultFencingConfig()
	cfg.Transport, cfg.Postgres, cfg.Bin = tr, pgtest.BaseURL(t), replica(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := cluster.RunFencing(ctx, cfg)
	if errors.Is(err, cluster.ErrPauseMissed) {
		// The experiment could not catch replica A in time on a loaded
		// machine (it says so rather than show a wrong result): once more.
		t.Logf("%v; running the experiment again", err)
		r, err = cluster.RunFencing(ctx, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	r.WriteText(t.Output())
	if err := r.WriteHTML(io.Discard); err != nil {
		t.Fatal(err)
	}
	bug, fix := r.WithoutFence, r.WithFence
	if bug.TakeoverToken <= bug.StaleToken || fix.TakeoverToken <= fix.StaleToken {
		t.Errorf("takeover tokens %d and %d, want larger than the stale holders' %d and %d", bug.TakeoverToken, fix.TakeoverToken, bug.StaleToken, fix.StaleToken)
	}
	tokens := func(run cluster.FencingRun) []int64 {
		var ts []int64
		for _, tx := range run.Transactions {
			ts = append(ts, tx.Token)
		}
		slices.Sort(ts)
		return ts
	}
	if bug.Stale == nil || bug.Audit.Duplicated != 1 || !slices.Equal(tokens(bug), []int64{bug.StaleToken, bug.TakeoverToken}) {
		t.Errorf("without the fence: stale replica answered %v %q, audit %d duplicated, tokens %v; want the deposit applied again under tokens %d and %d",
			bug.Stale, bug.StaleError, bug.Audit.Duplicated, tokens(bug), bug.StaleToken, bug.TakeoverToken)
	}
	if !fix.Refused || fix.Stale != nil || !fix.Audit.OK || !slices.Equal(tokens(fix), []int64{fix.TakeoverToken}) {
		t.Errorf("with the fence: stale replica answered %v %q, audit ok=%v (%d duplicated), tokens %v; want it refused and one transaction under token %d",
			fix.Stale, fix.StaleError, fix.Audit.OK, fix.Audit.Duplicated, tokens(fix), fix.TakeoverToken)
	}
}

// The clocks experiment in its default form over raw sockets and gRPC:
// with each replica's clock deciding, the retry on the replica whose
// clock is ahead by more than the retention is applied again and the
// later deposit is dated first; with the database's clock, the retry is a
// replay and the times are in order.
func TestClocksExperimentRaw(t *testing.T)  { testClocks(t, "raw") }
func TestClocksExperimentGRPC(t *testing.T) { testClocks(t, "grpc") }

func testClocks(t *testing.T, tr string) {
	cfg := cluster.DefaultClocksConfig()
	cfg.Transport, cfg.Postgres, cfg.Bin = tr, pgtest.BaseURL(t), replica(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := cluster.RunClocks(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.WriteText(t.Output())
	if err := r.WriteHTML(io.Discard); err != nil {
		t.Fatal(err)
	}
	bug, fix := r.ReplicaClocks, r.DatabaseClock
	if bug.Retry.Replayed || bug.Audit.Duplicated != 1 || !bug.OutOfOrder {
		t.Errorf("replica clocks: retry replayed=%v, audit %d duplicated, out of order=%v; want the deposit applied twice and the later deposit dated first",
			bug.Retry.Replayed, bug.Audit.Duplicated, bug.OutOfOrder)
	}
	if !fix.Retry.Replayed || !fix.Audit.OK || fix.OutOfOrder {
		t.Errorf("database clock: retry replayed=%v, audit ok=%v (%d duplicated), out of order=%v; want a replay, exactly once, in order",
			fix.Retry.Replayed, fix.Audit.OK, fix.Audit.Duplicated, fix.OutOfOrder)
	}
}
