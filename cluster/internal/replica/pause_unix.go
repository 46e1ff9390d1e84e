//go:build !windows

package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/igbank/igbank/common/process"
)

// pauseSelf stops this process (SIGSTOP) until SIGCONT, and stays paused until
// that SIGCONT even if its own SIGSTOP did not hold (seen on a loaded CI
// machine): it waits for the signal that ends the pause, up to a minute.
func pauseSelf(logger *slog.Logger) {
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	defer signal.Stop(cont)
	if err := process.PauseSelf(); err != nil {
		logger.Error("cannot pause", "err", err)
	}
	select {
	case <-cont:
	case <-time.After(time.Minute):
		logger.Error("no SIGCONT within a minute; going on")
	}
}
