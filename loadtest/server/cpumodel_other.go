//go:build !linux && !darwin && !windows

package server

// CPUModel returns "": this system's CPU model is not read.
func CPUModel() string { return "" }
