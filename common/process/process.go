// Package process runs the server processes of the durability experiments
// (the partial-failure lab's crash runs and the cluster's replicas): it
// starts a program, waits until it says it is ready, keeps the tail of its
// standard error for the messages that need it, stops or kills it, and a
// Supervisor keeps one running by starting it again each time it dies.
package process

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// stderrTail is how much of a process's standard error Proc keeps.
const stderrTail = 64 << 10

// Proc is a started process.
type Proc struct {
	cmd    *exec.Cmd
	stderr tail
	done   chan struct{} // closed when the process has ended
	err    error         // how it ended, once done is closed
}

// Start starts cmd, whose standard error it takes over (its other streams
// are the caller's to set up before), and, when readyLine is not empty,
// waits until the process writes a line containing readyLine to its
// standard error. If the process ends first, or ctx does (the process is
// then killed), Start fails with the tail of the process's standard error.
func Start(ctx context.Context, cmd *exec.Cmd, readyLine string) (*Proc, error) {
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	var once sync.Once
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.Write(line)
			if readyLine != "" && strings.Contains(line, readyLine) {
				once.Do(func() { close(ready) })
			}
		}
		io.Copy(io.Discard, stderr) // a line too long for the scanner
	}()
	go func() {
		<-copied // Wait closes the pipe: read it to the end first
		p.err = cmd.Wait()
		close(p.done)
	}()
	if readyLine == "" {
		return p, nil
	}
	select {
	case <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it was ready (%v):\n%s", p.Name(), p.err, p.Stderr())
	case <-ctx.Done():
		p.Kill()
		return nil, fmt.Errorf("%s not ready: %w\n%s", p.Name(), ctx.Err(), p.Stderr())
	}
}

// Name is the program's file name, for messages.
func (p *Proc) Name() string { return filepath.Base(p.cmd.Path) }

// PID is the process's id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Stderr returns the tail of what the process wrote to its standard error.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is how the process ended (exec.Cmd.Wait's error), once Done is
// closed.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Killed reports whether the process has ended by a kill (Proc.Kill,
// KillSelf, SIGKILL).
func (p *Proc) Killed() bool { return p.Exited() && Killed(p.err) }

// Kill ends the process at once (SIGKILL) and waits until it is gone.
func (p *Proc) Kill() {
	kill(p.cmd.Process)
	<-p.done
}

// Pause freezes the process (SIGSTOP) until Resume: alive, holding its
// sockets, but silent, as a process stalled by the machine or a long GC
// pause looks to its peers. Unix only.
func (p *Proc) Pause() error { return pause(p.cmd.Process) }

// Resume lets a paused process run again (SIGCONT).
func (p *Proc) Resume() error { return resume(p.cmd.Process) }

// Stop asks the process to shut down gracefully (SIGTERM) and waits for it
// up to timeout, then kills it.
func (p *Proc) Stop(timeout time.Duration) {
	terminate(p.cmd.Process)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
	}
}

// tail keeps the last stderrTail bytes of the lines written to it.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(append(t.b, line...), '\n')
	if len(t.b) > stderrTail {
		t.b = append([]byte(nil), t.b[len(t.b)-stderrTail:]...)
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}
