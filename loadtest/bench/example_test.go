package bench_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/report"
)

// The engine as a library: gRPC against the ping-pong reference, its
// server in this process, at two concurrencies, printed as "loadtest run"
// prints it.
func ExampleRun() {
	c := bench.DefaultConfig()
	c.Transports = []string{"grpc"}
	c.InProcess = true
	c.Concurrency = []int{1, 16}
	c.Rounds, c.Warmup, c.Duration = 1, 200*time.Millisecond, time.Second
	rep, err := bench.Run(context.Background(), c, nil)
	if err != nil {
		log.Fatal(err)
	}
	report.WriteTable(os.Stdout, rep)
}
