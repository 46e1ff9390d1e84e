package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/igbank/igbank/loadtest/registry"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/process"
	"github.com/igbank/igbank/common/store"
	"github.com/igbank/igbank/common/transport"
)

// ServeEnv is set in the environment of a server process that the load
// generator starts; a test binary's TestMain checks it to act as the
// server (see MaybeServe).
const ServeEnv = "IGBANK_LOADTEST_SERVE"

// MaybeServe runs the serve command and exits if this process was started
// by the load generator as a server. Test binaries call it from TestMain,
// because os.Executable is then the test binary, not the command.
func MaybeServe() {
	if os.Getenv(ServeEnv) == "1" && len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(ServeMain(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
}

const serveUsage = `usage: loadtest serve -transport NAME [-addr HOST:PORT] [-accounts N] [-store SPEC] [-cpus LIST]
                     [-idempotency on|off] [-fault PLAN]

Serves one registered transport over the ledger -store names until SIGINT or
SIGTERM. With -control (how "loadtest run" starts it), it prints its
address as a JSON line, answers "stats" lines on standard input with its own
accounting as JSON lines, and shuts down when standard input closes.

The partial-failure lab's server-side faults: -idempotency=off makes the
server ignore idempotency keys (bank.IgnoreKeys: every retry of a deposit
is applied again, the workshop's bug), and -fault makes the process kill
itself with SIGKILL on a deposit (common/fault):
  crash-before-apply[:N]  after reading the Nth deposit, before applying it
  crash-after-apply[:N]   after applying the Nth deposit, before answering it
  KIND:p=P,seed=S         on each deposit with probability P instead
Deposits are counted from the process's start; run it on -store sqlite:PATH
and start it again on the same file to see what survived.

`

type readyLine struct {
	Addr string `json:"addr"`
	PID  int    `json:"pid"`
}

// ServeMain is the serve command.
func ServeMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveUsage); fs.PrintDefaults() }
	name := fs.String("transport", "", "transport to serve: "+strings.Join(registry.Names(true), ", "))
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	accounts := fs.Int("accounts", ledger.DefaultAccounts, "number of seeded accounts")
	storeSpec := fs.String("store", "memory", "ledger: memory, sqlite:PATH or postgres://...")
	cpus := fs.String("cpus", "", "pin the process to these CPUs, such as 0 or 0,1")
	control := fs.Bool("control", false, "talk to the load generator on standard input and output")
	idem := fs.String("idempotency", "on", "on, or off to ignore idempotency keys (the partial-failure lab's bug)")
	faultSpec := fs.String("fault", "none", "kill this process on a deposit: crash-before-apply[:N], crash-after-apply[:N] or KIND:p=P,seed=S")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	t, ok := registry.Lookup(*name)
	if !ok {
		fmt.Fprintf(stderr, "serve: unknown transport %q (known: %s)\n", *name, strings.Join(registry.Names(true), ", "))
		return 2
	}
	if *accounts < 1 || *accounts > 999_999_999 {
		fmt.Fprintf(stderr, "serve: -accounts %d is out of range\n", *accounts)
		return 2
	}
	opts := serverOpts{}
	ignoreKeys, err := parseIdempotency(*idem)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 2
	}
	opts.ignoreKeys = ignoreKeys
	plan, err := fault.Parse(*faultSpec)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 2
	}
	opts.fault = plan
	cpuList, err := parseCPUs(*cpus)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 2
	}
	if err := pinCPUs(cpuList); err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	if *control {
		// Ctrl-C reaches the whole process group; the generator decides
		// when its servers stop, by closing standard input.
		signal.Ignore(os.Interrupt, syscall.SIGTERM)
	}
	s, err := startStoreServer(t, *addr, *storeSpec, *accounts, opts)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	if *control {
		enc.Encode(readyLine{Addr: s.addr, PID: os.Getpid()})
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			switch strings.TrimSpace(sc.Text()) {
			case "stats":
				enc.Encode(s.stats(true))
			case "quit":
				return s.close(stderr)
			}
		}
		return s.close(stderr)
	}
	fmt.Fprintf(stdout, "igbank %s server ready on %s (%d accounts)\n", t.Name, s.addr, *accounts)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-s.done:
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	return s.close(stderr)
}

func parseCPUs(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n >= 1024 {
			return nil, fmt.Errorf("CPU list %q: %q is not a CPU number", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// localServer is a transport's server running in this process.
type localServer struct {
	srv   transport.Server
	ln    *countingListener
	addr  string
	done  chan error
	store io.Closer
}

// serverOpts are the server-side faults of the partial-failure lab.
type serverOpts struct {
	ignoreKeys bool       // bank.IgnoreKeys: -idempotency=off
	fault      fault.Spec // -fault; a server process kills itself
	die        func()     // what dying is (nil: SIGKILL this process)
}

// args are the serve flags for o; a non-nil die cannot be passed on.
func (o serverOpts) args() []string {
	var a []string
	if o.ignoreKeys {
		a = append(a, "-idempotency", "off")
	}
	if o.fault.Kind != fault.None {
		a = append(a, "-fault", o.fault.String())
	}
	return a
}

// wrap decorates the server's bank b as o says.
func (o serverOpts) wrap(b bank.Bank) bank.Bank {
	if o.ignoreKeys {
		b = bank.IgnoreKeys(b)
	}
	if o.fault.Kind != fault.None {
		b = fault.Wrap(b, o.fault.Plan(), nil, o.die)
	}
	return b
}

// startStoreServer serves t on addr over the ledger storeSpec names (see
// common/store.Open), seeded with accounts accounts and decorated as opts
// says; closing the server closes the store.
func startStoreServer(t transport.Variant, addr, storeSpec string, accounts int, opts serverOpts) (*localServer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lg, closer, err := store.Open(ctx, storeSpec, accounts)
	if err != nil {
		return nil, err
	}
	s, err := startServer(t, addr, opts.wrap(bank.NewService(lg)))
	if err != nil {
		closer.Close()
		return nil, err
	}
	s.store = closer
	return s, nil
}

func startServer(t transport.Variant, addr string, b bank.Bank) (*localServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &localServer{srv: t.NewServer(b, transport.ServerConfig{}), ln: &countingListener{Listener: l}, addr: l.Addr().String(), done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(s.ln) }()
	return s, nil
}

// stats returns the server's byte counts and, if own (the server has the
// process to itself), the process's accounting.
func (s *localServer) stats(own bool) ProcStats {
	var p ProcStats
	if own {
		p = readProcStats()
	}
	p.BytesIn, p.BytesOut = s.ln.counts()
	return p
}

func (s *localServer) close(stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.store != nil {
		defer s.store.Close()
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		fmt.Fprintf(stderr, "serve: shutdown: %v\n", err)
		return 1
	}
	select {
	case err := <-s.done:
		if err != nil {
			fmt.Fprintf(stderr, "serve: %v\n", err)
			return 1
		}
	case <-ctx.Done():
		fmt.Fprintf(stderr, "serve: Serve did not return after Shutdown\n")
		return 1
	}
	return 0
}

// serverHandle is a running server under test, in its own process or in
// this one.
type serverHandle interface {
	Addr() string
	// Stats returns the server's accounting; OwnProcess says whether CPU,
	// allocation and memory figures are the server's alone.
	Stats() (ProcStats, error)
	OwnProcess() bool
	Close() error
}

type inProcessHandle struct{ s *localServer }

func (h inProcessHandle) Addr() string              { return h.s.addr }
func (h inProcessHandle) Stats() (ProcStats, error) { return h.s.stats(false), nil }
func (h inProcessHandle) OwnProcess() bool          { return false }
func (h inProcessHandle) Close() error {
	var buf bytes.Buffer
	if h.s.close(&buf) != 0 {
		return errors.New(strings.TrimSpace(buf.String()))
	}
	return nil
}

func startInProcess(t transport.Variant, accounts int, storeSpec string, opts serverOpts) (serverHandle, error) {
	s, err := startStoreServer(t, "127.0.0.1:0", storeSpec, accounts, opts)
	if err != nil {
		return nil, err
	}
	return inProcessHandle{s}, nil
}

// childHandle is a server in a process of its own: this program again, in
// serve mode, which prints its address as a JSON line on its standard
// output and answers "stats" lines on its standard input.
type childHandle struct {
	proc  *process.Proc
	stdin io.WriteCloser
	out   *bufio.Reader
	addr  string
	mu    sync.Mutex
}

func startChild(t transport.Variant, accounts int, storeSpec, cpus string, opts serverOpts) (serverHandle, error) {
	h, err := startChildProc(t, accounts, storeSpec, cpus, opts.args()...)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// startChildProc starts this program in serve mode, with extra serve
// flags, and waits for its ready line.
func startChildProc(t transport.Variant, accounts int, storeSpec, cpus string, extra ...string) (*childHandle, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "-control", "-transport", t.Name, "-accounts", strconv.Itoa(accounts)}
	if storeSpec != "" {
		args = append(args, "-store", storeSpec)
	}
	if cpus != "" {
		args = append(args, "-cpus", cpus)
	}
	args = append(args, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), ServeEnv+"=1")
	h := &childHandle{}
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
		h.kill()
		return nil, fmt.Errorf("%s server process did not start: %v %s", t.Name, err, h.proc.Stderr())
	}
	h.addr = ready.Addr
	return h, nil
}

func (h *childHandle) readJSON(v any, timeout time.Duration) error {
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

func (h *childHandle) Addr() string     { return h.addr }
func (h *childHandle) OwnProcess() bool { return true }

func (h *childHandle) Stats() (ProcStats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var p ProcStats
	if _, err := io.WriteString(h.stdin, "stats\n"); err != nil {
		return p, err
	}
	err := h.readJSON(&p, 10*time.Second)
	return p, err
}

func (h *childHandle) kill() { h.proc.Kill() }

func (h *childHandle) Close() error {
	h.stdin.Close()
	select {
	case <-h.proc.Done():
		if err := h.proc.Err(); err != nil {
			return fmt.Errorf("server process: %v %s", err, h.proc.Stderr())
		}
		return nil
	case <-time.After(15 * time.Second):
		h.kill()
		return errors.New("server process did not stop within 15s; killed")
	}
}

// externalHandle is a server that something else started.
type externalHandle string

func (h externalHandle) Addr() string              { return string(h) }
func (h externalHandle) Stats() (ProcStats, error) { return ProcStats{}, nil }
func (h externalHandle) OwnProcess() bool          { return false }
func (h externalHandle) Close() error              { return nil }

// parseIdempotency reads an -idempotency flag: "on" (the server honours
// idempotency keys) or "off" (it ignores them: the workshop's double
// deposit, bank.IgnoreKeys).
func parseIdempotency(v string) (ignoreKeys bool, err error) {
	switch v {
	case "on":
		return false, nil
	case "off":
		return true, nil
	}
	return false, fmt.Errorf("-idempotency is on or off, not %q", v)
}
