package cputime

import "syscall"

// processCPU returns the user and kernel CPU time of the whole process,
// in nanoseconds, from GetProcessTimes.
func processCPU() (int64, bool) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, false
	}
	var creation, exit, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return 0, false
	}
	// A Filetime here is a duration in 100 ns units.
	ns := func(f syscall.Filetime) int64 { return (int64(f.HighDateTime)<<32 | int64(f.LowDateTime)) * 100 }
	return ns(user) + ns(kernel), true
}
