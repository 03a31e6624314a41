package benchreport

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Machine is what a report says about the machine a section ran on.
type Machine struct {
	Date  time.Time // when the section started, UTC
	CPU   string    // model name from /proc/cpuinfo
	Cores int       // logical CPUs the benchmarks could use
	Load  string    // the three load averages of /proc/loadavg at start
}

// ReadMachine reads the CPU model and the load average from proc (normally
// "/proc") and stamps the result with now.
func ReadMachine(proc string, now time.Time) (Machine, error) {
	m := Machine{Date: now.UTC().Truncate(time.Second), Cores: runtime.NumCPU()}
	info, err := os.ReadFile(filepath.Join(proc, "cpuinfo"))
	if err != nil {
		return m, fmt.Errorf("read CPU model: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			m.CPU = strings.Join(strings.Fields(v), " ")
			break
		}
	}
	if m.CPU == "" {
		m.CPU = "unknown (" + runtime.GOARCH + ")"
	}
	load, err := os.ReadFile(filepath.Join(proc, "loadavg"))
	if err != nil {
		return m, fmt.Errorf("read load average: %w", err)
	}
	f := strings.Fields(string(load))
	if len(f) < 3 {
		return m, fmt.Errorf("read load average: %q has fewer than 3 fields", load)
	}
	m.Load = strings.Join(f[:3], " ")
	return m, nil
}

// Config keys under which a run's output file records its machine and
// command, in benchfmt's "key: value" configuration lines.
const (
	keyDate    = "anshim-date"
	keyCPU     = "anshim-cpu"
	keyCores   = "anshim-cores"
	keyLoad    = "anshim-load"
	keyCommand = "anshim-command"
)

// header returns the configuration lines that open a run's output file.
func (m Machine) header(command string) string {
	return fmt.Sprintf("%s: %s\n%s: %s\n%s: %d\n%s: %s\n%s: %s\n",
		keyDate, m.Date.Format(time.RFC3339), keyCPU, m.CPU, keyCores, m.Cores,
		keyLoad, m.Load, keyCommand, command)
}

// String is the machine line of a generated block.
func (m Machine) String() string {
	return fmt.Sprintf("%s · %s, %d cores · load average at start %s",
		m.Date.Format(dateLayout), m.CPU, m.Cores, m.Load)
}

// dateLayout is how a generated block shows its date; ParseDoc reads it back.
const dateLayout = "2006-01-02 15:04 UTC"
