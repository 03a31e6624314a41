package faulttest

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The binaries under test, built once by TestMain.
var bins struct {
	kiosk, central, nats string
	natsFrom             string // the package nats-server was built from
}

var keepLogs = flag.Bool("faulttest.keeplogs", false, "keep every process's log in a temporary directory, also when the test passes")

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if testing.Short() { // every test that needs the binaries skips
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "anshim-faulttest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		return 1
	}
	return m.Run()
}

// buildAll builds the kiosk, the central and a nats-server into dir.
func buildAll(dir string) error {
	build := func(out string, pkgs ...string) error {
		cmd := exec.Command("go", append([]string{"build", "-o", out}, pkgs...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, b)
		}
		return nil
	}
	if err := build(dir+string(filepath.Separator), "github.com/anshim/anshim/cmd/kiosk", "github.com/anshim/anshim/cmd/central"); err != nil {
		return err
	}
	bins.kiosk, bins.central = filepath.Join(dir, "kiosk"), filepath.Join(dir, "central")
	bins.nats = filepath.Join(dir, "nats-server")
	// The module's own main first; it needs go.uber.org/automaxprocs, which
	// go.sum lacks, so fall back to the same main without it.
	bins.natsFrom = "github.com/nats-io/nats-server/v2"
	if err := build(bins.nats, bins.natsFrom); err != nil {
		bins.natsFrom = "github.com/anshim/anshim/sync/faulttest/internal/natsd"
		if err := build(bins.nats, bins.natsFrom); err != nil {
			return err
		}
	}
	return nil
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lineLog keeps the output lines of one node (a process and its restarts)
// and lets tests wait for a line.
type lineLog struct {
	name   string
	mu     sync.Mutex
	lines  []string
	notify chan struct{} // closed and replaced at each new line
}

func newLineLog(t testing.TB, name string) *lineLog {
	l := &lineLog{name: name, notify: make(chan struct{})}
	t.Cleanup(func() {
		if !t.Failed() && !*keepLogs {
			return
		}
		l.mu.Lock()
		lines := append([]string(nil), l.lines...)
		l.mu.Unlock()
		dir := filepath.Join(os.TempDir(), "anshim-faulttest-logs", strings.ReplaceAll(t.Name(), "/", "_"))
		os.MkdirAll(dir, 0o755)
		path := filepath.Join(dir, name+".log")
		os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
		if t.Failed() {
			tail := lines[max(0, len(lines)-25):]
			t.Logf("--- last %d of %d lines of %s (all in %s):\n%s", len(tail), len(lines), name, path, strings.Join(tail, "\n"))
		} else {
			t.Logf("log of %s: %s", name, path)
		}
	})
	return l
}

func (l *lineLog) add(line string) {
	l.mu.Lock()
	l.lines = append(l.lines, line)
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
}

// len returns the number of lines so far: a mark to wait from.
func (l *lineLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// wait returns the first line at index from or later that matches, waiting
// for it until timeout or until stop is closed.
func (l *lineLog) wait(from int, timeout time.Duration, stop <-chan struct{}, match func(string) bool) (string, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for ; from < len(l.lines); from++ {
			if match(l.lines[from]) {
				line := l.lines[from]
				l.mu.Unlock()
				return line, true
			}
		}
		ch := l.notify
		l.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return "", false
		case <-stop:
			stop = nil // look once more at what came before the end
			deadline.Reset(100 * time.Millisecond)
		}
	}
}

// grep returns the lines from index from that match.
func (l *lineLog) grep(from int, match func(string) bool) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines[min(from, len(l.lines)):] {
		if match(s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				return false
			}
		}
		return true
	}
}

// proc is one run of a binary. Its standard output and error go to a
// lineLog (error lines prefixed "stderr: ").
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser // nil unless asked for
	done  chan struct{}  // closed when the process has exited and its output is read
	err   error          // cmd.Wait's, once done
}

// startProc starts bin. onLine, if not nil, sees every standard output
// line, in order, before it is logged. The process is killed at the end of
// the test if it still runs.
func startProc(t testing.TB, log *lineLog, withStdin bool, onLine func(string), bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	// Should the test binary die (a timeout), take the process along.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &proc{name: log.name, cmd: cmd, done: make(chan struct{})}
	var err error
	if withStdin {
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	log.add(fmt.Sprintf("=== %s %s", filepath.Base(bin), strings.Join(args, " ")))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", log.name, err)
	}
	var readers sync.WaitGroup
	read := func(r io.Reader, prefix string, onLine func(string)) {
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			s, err := br.ReadString('\n')
			if s = strings.TrimRight(s, "\r\n"); s != "" {
				if onLine != nil {
					onLine(s)
				}
				log.add(prefix + s)
			}
			if err != nil {
				return
			}
		}
	}
	readers.Go(func() { read(stdout, "", onLine) })
	readers.Go(func() { read(stderr, "stderr: ", nil) })
	go func() {
		readers.Wait()
		p.err = cmd.Wait()
		log.add(fmt.Sprintf("=== exited: %v", p.err))
		close(p.done)
	}()
	t.Cleanup(p.kill)
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill SIGKILLs the process and waits until it is gone.
func (p *proc) kill() {
	if p.running() {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
	if p.stdin != nil {
		p.stdin.Close()
	}
	<-p.done
}

// stop sends SIGTERM and waits for the exit; it fails the test if the
// process does not exit cleanly within timeout (and then kills it).
func (p *proc) stop(t testing.TB, timeout time.Duration) {
	t.Helper()
	if !p.running() {
		t.Errorf("%s exited before it was stopped: %v", p.name, p.err)
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s did not stop cleanly on SIGTERM: %v", p.name, p.err)
		}
	case <-time.After(timeout):
		t.Errorf("%s did not stop within %v of SIGTERM; killed", p.name, timeout)
		p.kill()
	}
	if p.stdin != nil {
		p.stdin.Close()
	}
}

// runCmd runs a short command and returns its standard output.
func runCmd(t testing.TB, bin string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v\n%s%s", filepath.Base(bin), strings.Join(args, " "), err, out, stderr.String())
	}
	return out, nil
}
