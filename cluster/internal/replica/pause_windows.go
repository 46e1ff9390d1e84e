package main

import (
	"log/slog"

	"github.com/igbank/igbank/common/process"
)

// pauseSelf cannot stop a process on Windows (no SIGSTOP): it says so.
func pauseSelf(logger *slog.Logger) {
	if err := process.PauseSelf(); err != nil {
		logger.Error("cannot pause", "err", err)
	}
}
