package server

import (
	"runtime/metrics"
	"sync"
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
	// LiveHeapBytes is the heap the last garbage collection found live:
	// what the process holds, without the garbage of a high allocation
	// rate. Goroutines counts the process's goroutines.
	LiveHeapBytes uint64 `json:"live_heap_bytes"`
	Goroutines    uint64 `json:"goroutines"`
}

// CPUNs is user plus system CPU time.
func (p ProcStats) CPUNs() int64 { return p.CPUUserNs + p.CPUSysNs }

var procSamples = []metrics.Sample{
	{Name: "/gc/heap/allocs:objects"},
	{Name: "/gc/heap/allocs:bytes"},
	{Name: "/gc/cycles/total:gc-cycles"},
	{Name: "/gc/heap/live:bytes"},
	{Name: "/sched/goroutines:goroutines"},
}

var procMu sync.Mutex

// ReadProcStats reads this process's CPU time (getrusage; on Windows
// GetProcessTimes), heap allocations, live heap and goroutines
// (runtime/metrics) and resident memory
// (/proc/self/statm; 0 where there is no /proc: see readRSS).
func ReadProcStats() ProcStats {
	var p ProcStats
	p.CPUUserNs, p.CPUSysNs = processCPUTime()
	procMu.Lock()
	metrics.Read(procSamples)
	if procSamples[0].Value.Kind() == metrics.KindUint64 {
		p.AllocObjects = procSamples[0].Value.Uint64()
		p.AllocBytes = procSamples[1].Value.Uint64()
		p.GCCycles = procSamples[2].Value.Uint64()
		p.LiveHeapBytes = procSamples[3].Value.Uint64()
		p.Goroutines = procSamples[4].Value.Uint64()
	}
	procMu.Unlock()
	p.RSSBytes = readRSS()
	return p
}
