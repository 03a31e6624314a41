package benchreport

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Section is one generated block of the document: the benchmarks one
// `go test` command runs, and the goals they are held to.
type Section struct {
	Name string   // marker name: <!-- bench:Name begin -->
	Env  []string // defaults added to the environment where it does not set them, e.g. "ANSHIM_SYNTH_BENCH=1"
	Args []string // after "go test"; Run adds -p 1
	// Units are the table's columns in order; empty means every unit the
	// benchmarks reported except ns/op, B/op and allocs/op (or ns/op
	// alone when that is all there is).
	Units []string
	Goals []Goal
	// Note is a sentence under the table (what the baseline is).
	Note string
	// Separate sections run only when named (the province: hours).
	Separate bool
}

// Goal is a bound one metric of the benchmarks whose names match Bench
// must keep.
type Goal struct {
	Text  string  // what the goal means, e.g. "scan to commit p50 ≤ 2× a raw commit"
	Bench string  // regular expression matched against Result.Name
	Unit  string  // the metric, e.g. "p50-ratio"
	Op    string  // "<=" or ">="
	Limit float64 // the bound
}

// Command is the section's command line as a user would type it, with
// the environment it runs with (Env, or the value the environment set).
func (s Section) Command() string {
	var b strings.Builder
	for _, e := range s.Env {
		if k, _, _ := strings.Cut(e, "="); os.Getenv(k) != "" {
			e = k + "=" + os.Getenv(k)
		}
		b.WriteString(shellQuote(e) + " ")
	}
	b.WriteString("go test")
	for _, a := range s.args() {
		b.WriteString(" " + shellQuote(a))
	}
	return b.String()
}

// args are Args with -p 1 first: one package's benchmarks at a time.
func (s Section) args() []string {
	return append([]string{"-p", "1"}, s.Args...)
}

// Run runs the section's command with goBin (normally "go"), writing the
// machine header and the command's output (stdout and stderr) to w. A
// command that fails still leaves its output in w; the error says how
// it ended.
func (s Section) Run(ctx context.Context, goBin string, m Machine, w io.Writer) error {
	if _, err := io.WriteString(w, m.header(s.Command())); err != nil {
		return fmt.Errorf("section %s: %w", s.Name, err)
	}
	cmd := exec.CommandContext(ctx, goBin, append([]string{"test"}, s.args()...)...)
	cmd.Env = os.Environ()
	for _, e := range s.Env {
		if k, _, _ := strings.Cut(e, "="); os.Getenv(k) == "" {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("section %s: %s: %w", s.Name, s.Command(), err)
	}
	return nil
}

// shellQuote quotes a word for sh when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"$*?[]|&;<>()\\`^") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
