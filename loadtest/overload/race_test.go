//go:build race

package overload

// raceEnabled: the race detector slows the servers (this test binary) and
// the generator several times over, so that on two cores they, not the
// backend, become the bottleneck and the experiment measures the machine.
const raceEnabled = true
