package server

import "golang.org/x/sys/unix"

// CPUModel returns the CPU's model name, from sysctl
// machdep.cpu.brand_string.
func CPUModel() string {
	s, err := unix.Sysctl("machdep.cpu.brand_string")
	if err != nil {
		return ""
	}
	return s
}
