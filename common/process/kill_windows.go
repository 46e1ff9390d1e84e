package process

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// KillExitCode is the exit code of a process ended by KillSelf or
// Proc.Kill on Windows, which has no signals: 128+9, what a Unix shell
// shows for SIGKILL. os.Process.Kill ends a process the same way
// (TerminateProcess) but with exit code 1, which is also what a server
// that fails on its own returns, so killing here gives its own code to
// keep the two apart.
const KillExitCode = 137

// KillSelf ends this process at once with TerminateProcess, so that
// nothing is flushed and no response is written: how a server process
// dies in the partial-failure lab. It does not return.
func KillSelf() {
	if h, err := syscall.GetCurrentProcess(); err == nil {
		syscall.TerminateProcess(h, KillExitCode)
	}
	select {}
}

// kill ends p at once with TerminateProcess and KillExitCode.
func kill(p *os.Process) error {
	h, err := syscall.OpenProcess(syscall.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		return p.Kill()
	}
	defer syscall.CloseHandle(h)
	return syscall.TerminateProcess(h, KillExitCode)
}

// terminate would ask p to shut down gracefully; Windows cannot send it a
// signal, so it is killed.
func terminate(p *os.Process) error { return kill(p) }

// Killed reports whether err, from an exec.Cmd's Wait or Run, says the
// process was killed by KillSelf or Proc.Kill: os/exec reports a
// terminated process as an *exec.ExitError whose ExitCode is the code
// TerminateProcess was given.
func Killed(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == KillExitCode
}

// errNoPause: Windows has no SIGSTOP.
var errNoPause = errors.New("process: pausing a process needs Unix signals (SIGSTOP)")

func pause(*os.Process) error  { return errNoPause }
func resume(*os.Process) error { return errNoPause }

// PauseSelf is not supported on Windows (no SIGSTOP).
func PauseSelf() error { return errNoPause }
