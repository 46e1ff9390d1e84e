package netem

import (
	"io"
	"testing"
	"time"
)

// BenchmarkPingPong is the cost of the wrapper on a round trip: the bare
// socket beside LAN without its latency, where every 8-byte answer still
// goes through the queue, the flusher's timer (for its 0.64 µs of
// transmission) and the upstream pacing.
func BenchmarkPingPong(b *testing.B) {
	lan0 := LAN
	lan0.Latency = 0
	for _, bc := range []struct {
		name string
		p    Profile
	}{{"loopback", Loopback}, {"lan-zero-latency", lan0}} {
		b.Run(bc.name, func(b *testing.B) {
			server, client := pair(b, bc.p)
			go echo(server)
			buf := make([]byte, 8)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Write(buf); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(client, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWrite is the cost of one 64-byte Write by the server: on the
// socket, and queued under a 1 µs latency with no bandwidth limit, whose
// flusher writes what fell due together.
func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    Profile
	}{{"socket", Loopback}, {"queued", Profile{Name: "custom", Latency: time.Microsecond}}} {
		b.Run(bc.name, func(b *testing.B) {
			server, client := pair(b, bc.p)
			go io.Copy(io.Discard, client)
			buf := make([]byte, 64)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, err := server.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
