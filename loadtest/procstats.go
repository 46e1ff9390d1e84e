package loadtest

import (
	"net"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// ProcStats is a process's own accounting at one instant. Differences of
// two give the cost of what happened between them.
type ProcStats struct {
	CPUUserNs    int64  `json:"cpu_user_ns"`
	CPUSysNs     int64  `json:"cpu_sys_ns"`
	AllocObjects uint64 `json:"alloc_objects"`
	AllocBytes   uint64 `json:"alloc_bytes"`
	RSSBytes     uint64 `json:"rss_bytes"`
	BytesIn      uint64 `json:"bytes_in"`  // read by the server from its connections
	BytesOut     uint64 `json:"bytes_out"` // written by the server to its connections
	GCCycles     uint64 `json:"gc_cycles"`
}

// CPUNs is user plus system CPU time.
func (p ProcStats) CPUNs() int64 { return p.CPUUserNs + p.CPUSysNs }

var procSamples = []metrics.Sample{
	{Name: "/gc/heap/allocs:objects"},
	{Name: "/gc/heap/allocs:bytes"},
	{Name: "/gc/cycles/total:gc-cycles"},
}

var procMu sync.Mutex

// readProcStats reads this process's CPU time (getrusage; on Windows
// GetProcessTimes), heap allocations (runtime/metrics) and resident memory
// (/proc/self/statm; 0 where there is no /proc: see readRSS).
func readProcStats() ProcStats {
	var p ProcStats
	p.CPUUserNs, p.CPUSysNs = processCPUTime()
	procMu.Lock()
	metrics.Read(procSamples)
	if procSamples[0].Value.Kind() == metrics.KindUint64 {
		p.AllocObjects = procSamples[0].Value.Uint64()
		p.AllocBytes = procSamples[1].Value.Uint64()
		p.GCCycles = procSamples[2].Value.Uint64()
	}
	procMu.Unlock()
	p.RSSBytes = readRSS()
	return p
}

// countingListener counts the bytes its connections read and write: what
// crossed the wire in each direction, above TCP.
type countingListener struct {
	net.Listener
	in, out atomic.Uint64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

func (l *countingListener) counts() (in, out uint64) { return l.in.Load(), l.out.Load() }

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.in.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.out.Add(uint64(n))
	return n, err
}
