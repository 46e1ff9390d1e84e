// Command loadtest drives every IGBank transport with the same workload
// and prints them side by side. "go run ./loadtest/cmd/loadtest run" from
// the workspace root is the side-by-side benchmark; "loadtest -h" lists
// the commands.
package main

import (
	"os"

	"github.com/igbank/igbank/loadtest"
	"github.com/igbank/igbank/loadtest/server"
)

func main() {
	server.MaybeServe()
	os.Exit(loadtest.Main(os.Args[1:], os.Stdout, os.Stderr))
}
