// Package ledger holds the stores behind the reference bank service: the
// deterministic seed shared by every store, and Memory, the in-memory ledger
// that is the embedded default for demos and transport benchmarks.
//
// A store implements bank.Ledger; bank.NewService validates requests in
// front of it.
package ledger
