//go:build !linux && !darwin && !windows

package loadtest

// cpuModel returns "": this system's CPU model is not read.
func cpuModel() string { return "" }
