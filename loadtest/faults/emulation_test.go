package faults

import (
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/netem"
	"github.com/igbank/igbank/loadtest/server"
)

// BenchmarkEmulation compares the two ways to put a network between a
// client and a server on loopback that issue 15 weighed: the listener
// wrapper of common/netem, which the load generator uses, and an
// embedded Toxiproxy with a latency toxic each way (the fault lab's
// proxy). Each runs a bare ping-pong of 64 bytes over 64 connections in
// parallel under the LAN profile's 2 ms one-way latency (no bandwidth
// limit) and reports the median round trip against the 4 ms the profile
// asks for, and the CPU (client, server and emulation: one process) per
// round trip:
//
//	go test ./faults -run '^$' -bench Emulation -benchtime 2000x
func BenchmarkEmulation(b *testing.B) {
	const oneWay = 2 * time.Millisecond
	profile := netem.Profile{Name: "custom", Latency: oneWay}
	for _, name := range []string{"netem", "toxiproxy"} {
		b.Run(name, func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			addr := l.Addr().String()
			if name == "netem" {
				l = profile.Listener(l)
			}
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					go func() { defer c.Close(); io.Copy(c, c) }()
				}
			}()
			if name == "toxiproxy" {
				p, err := startProxy("emulation", addr)
				if err != nil {
					b.Fatal(err)
				}
				defer p.proxy.Stop()
				for _, stream := range []string{"upstream", "downstream"} {
					if err := p.Add(toxic{Type: "latency", Stream: stream, Attributes: map[string]any{"latency": oneWay.Milliseconds()}}); err != nil {
						b.Fatal(err)
					}
				}
				addr = p.Addr()
			}
			const conns = 64
			var mu sync.Mutex
			var rtts []time.Duration
			next := make(chan struct{}, b.N)
			for range b.N {
				next <- struct{}{}
			}
			close(next)
			cs := make([]net.Conn, conns)
			for i := range cs {
				if cs[i], err = net.Dial("tcp", addr); err != nil {
					b.Fatal(err)
				}
				defer cs[i].Close()
			}
			b.ResetTimer()
			cpu0 := server.ReadProcStats().CPUNs()
			var wg sync.WaitGroup
			for _, c := range cs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					msg, got := make([]byte, 64), make([]byte, 64)
					var mine []time.Duration
					for range next {
						t := time.Now()
						if _, err := c.Write(msg); err != nil {
							b.Error(err)
							return
						}
						if _, err := io.ReadFull(c, got); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(t))
					}
					mu.Lock()
					rtts = append(rtts, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			cpu := server.ReadProcStats().CPUNs() - cpu0
			b.StopTimer()
			slices.Sort(rtts)
			med := rtts[len(rtts)/2]
			b.ReportMetric(float64(med.Microseconds()), "rtt-µs")
			b.ReportMetric(100*float64(med-2*oneWay)/float64(2*oneWay), "rtt-err-%")
			b.ReportMetric(float64(cpu)/1e3/float64(b.N), "cpu-µs/rtt")
		})
	}
}
