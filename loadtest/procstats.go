package loadtest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
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

// readProcStats reads this process's CPU time (getrusage), heap
// allocations (runtime/metrics) and resident memory (/proc/self/statm).
func readProcStats() ProcStats {
	var p ProcStats
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) == nil {
		p.CPUUserNs = ru.Utime.Nano()
		p.CPUSysNs = ru.Stime.Nano()
	}
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

func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// pinCPUs binds every thread of this process to cpus and sets GOMAXPROCS
// to match. New threads inherit the mask from the thread that makes them.
func pinCPUs(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	var set unix.CPUSet
	set.Zero()
	for _, c := range cpus {
		set.Set(c)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("sched_setaffinity: %w", err)
		}
	}
	runtime.GOMAXPROCS(len(cpus))
	return nil
}

// cpuModel returns the CPU's model name from /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
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
