//go:build unix

package process

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// KillSelf ends this process at once with SIGKILL, so that nothing is
// flushed and no response is written: how a server process dies in the
// partial-failure lab. It does not return.
func KillSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// kill ends p at once with SIGKILL.
func kill(p *os.Process) error { return p.Kill() }

// terminate asks p to shut down gracefully (SIGTERM).
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// Killed reports whether err, from an exec.Cmd's Wait or Run, says the
// process was killed: it was ended by SIGKILL (KillSelf, Proc.Kill, or
// anyone's kill -9).
func Killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// pause freezes p (SIGSTOP): it keeps its sockets, and the kernel still
// accepts connections for it, but it runs no code (no heartbeat, no
// answer) until resume (SIGCONT).
func pause(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }

// resume lets a paused p run again (SIGCONT).
func resume(p *os.Process) error { return p.Signal(syscall.SIGCONT) }

// PauseSelf freezes this process with SIGSTOP, as Proc.Pause freezes
// another: it returns when someone sends SIGCONT (Proc.Resume). How the
// fencing experiment stalls a replica at the precise moment after it
// claimed a key.
func PauseSelf() error { return syscall.Kill(os.Getpid(), syscall.SIGSTOP) }
