package server

import (
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// processCPUTime returns this process's user and system (kernel) CPU
// time, in nanoseconds, from GetProcessTimes; 0, 0 if it cannot be read.
func processCPUTime() (user, sys int64) {
	var creation, exit, kernel, usr windows.Filetime
	if windows.GetProcessTimes(windows.CurrentProcess(), &creation, &exit, &kernel, &usr) != nil {
		return 0, 0
	}
	// A Filetime here is a duration in 100 ns units.
	ns := func(f windows.Filetime) int64 { return (int64(f.HighDateTime)<<32 | int64(f.LowDateTime)) * 100 }
	return ns(usr), ns(kernel)
}

// CPUModel returns the CPU's model name, from the registry.
func CPUModel() string {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `HARDWARE\DESCRIPTION\System\CentralProcessor\0`, registry.QUERY_VALUE)
	if err != nil {
		return ""
	}
	defer k.Close()
	s, _, err := k.GetStringValue("ProcessorNameString")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(s)
}
