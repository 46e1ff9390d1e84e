package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/igbank/igbank/common/process"
)

// Child is a server in a process of its own: this program again, in serve
// mode, which prints its address as a JSON line on its standard output
// and answers "stats" lines on its standard input.
type Child struct {
	proc  *process.Proc
	stdin io.WriteCloser
	out   *bufio.Reader
	addr  string
	maddr string
	mu    sync.Mutex
}

// StartChild starts this program in serve mode as c says (c.Control
// set, c.Die ignored) and waits for its ready line. The program runs
// Serve through MaybeServe: the Config travels in the environment
// (IGBANK_LOADTEST_SERVE), its flags (Config.Args) on the command line for a reader.
func StartChild(c Config) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c.Control = true
	js, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, append([]string{"serve"}, c.Args()...)...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	h := &Child{}
	if h.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	h.out = bufio.NewReader(stdout)
	if h.proc, err = process.Start(context.Background(), cmd, ""); err != nil {
		return nil, err
	}
	var ready readyLine
	if err := h.readJSON(&ready, 30*time.Second); err != nil || ready.Addr == "" {
		h.proc.Kill()
		return nil, fmt.Errorf("%s server process did not start: %v %s", c.Transport, err, h.proc.Stderr())
	}
	h.addr, h.maddr = ready.Addr, ready.Metrics
	return h, nil
}

func (h *Child) readJSON(v any, timeout time.Duration) error {
	type result struct {
		line []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := h.out.ReadBytes('\n')
		ch <- result{line, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return r.err
		}
		return json.Unmarshal(r.line, v)
	case <-time.After(timeout):
		return errors.New("no answer from the server process")
	}
}

// Addr is the address the server listens on.
func (h *Child) Addr() string { return h.addr }

// MetricsAddr is the address of the server's metrics (Config.Metrics),
// "" if it has none.
func (h *Child) MetricsAddr() string { return h.maddr }

// OwnProcess is true: the server's accounting is its own.
func (h *Child) OwnProcess() bool { return true }

// Proc is the server's process.
func (h *Child) Proc() *process.Proc { return h.proc }

// Stats asks the server process for its accounting.
func (h *Child) Stats() (ProcStats, error) { return h.ask("stats") }

// SettledStats asks the server process for its accounting after two
// garbage collections (the second returning the freed memory to the
// system, debug.FreeOSMemory), so that RSS and heap say what the server
// still holds: one collection leaves sync.Pool's victim cache in place.
func (h *Child) SettledStats() (ProcStats, error) { return h.ask("settled-stats") }

func (h *Child) ask(what string) (ProcStats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var p ProcStats
	if _, err := io.WriteString(h.stdin, what+"\n"); err != nil {
		return p, err
	}
	err := h.readJSON(&p, 10*time.Second)
	return p, err
}

// Close closes the server's standard input, which stops it, and waits 15 s
// for it to end before killing it.
func (h *Child) Close() error {
	h.stdin.Close()
	select {
	case <-h.proc.Done():
		if err := h.proc.Err(); err != nil {
			return fmt.Errorf("server process: %v %s", err, h.proc.Stderr())
		}
		return nil
	case <-time.After(15 * time.Second):
		h.proc.Kill()
		return errors.New("server process did not stop within 15s; killed")
	}
}
