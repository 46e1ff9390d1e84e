//go:build unix

package fault

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// Kill is how a server process dies: SIGKILL to itself, so that nothing
// is flushed and no response is written. It does not return.
func Kill() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// Killed reports whether err, from an exec.Cmd's Wait or Run, says the
// process died by Kill: it was ended by SIGKILL.
func Killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
