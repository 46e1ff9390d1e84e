package bench

// checkFileLimit has nothing to check on Windows: sockets are handles,
// with no per-process limit like Unix's RLIMIT_NOFILE.
func checkFileLimit(*Config) error { return nil }
