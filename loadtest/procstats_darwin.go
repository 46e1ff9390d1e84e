package loadtest

import "golang.org/x/sys/unix"

// cpuModel returns the CPU's model name, from sysctl
// machdep.cpu.brand_string.
func cpuModel() string {
	s, err := unix.Sysctl("machdep.cpu.brand_string")
	if err != nil {
		return ""
	}
	return s
}
