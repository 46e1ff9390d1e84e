package fault

import (
	"errors"
	"os/exec"
	"syscall"
)

// KillExitCode is the exit code of a process ended by Kill on Windows,
// which has no signals: 128+9, what a Unix shell shows for SIGKILL.
// os.Process.Kill ends a process the same way (TerminateProcess) but with
// exit code 1, which is also what a server that fails on its own returns,
// so Kill gives its own code to keep the two apart.
const KillExitCode = 137

// Kill is how a server process dies: TerminateProcess on itself, so that
// nothing is flushed and no response is written. It does not return.
func Kill() {
	if h, err := syscall.GetCurrentProcess(); err == nil {
		syscall.TerminateProcess(h, KillExitCode)
	}
	select {}
}

// Killed reports whether err, from an exec.Cmd's Wait or Run, says the
// process died by Kill: os/exec reports a terminated process as an
// *exec.ExitError whose ExitCode is the code TerminateProcess was given.
func Killed(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == KillExitCode
}
