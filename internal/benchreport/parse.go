package benchreport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
)

// Metric is one figure a benchmark reported: ns/op, B/op, allocs/op or a
// unit of its own from b.ReportMetric.
type Metric struct {
	Unit  string
	Value float64
}

// Result is one benchmark line.
type Result struct {
	Name    string // without "Benchmark" and the -GOMAXPROCS suffix, e.g. "ScanToCommit" or "VsZbar/coded"
	Pkg     string // the pkg: line before it
	Iters   int
	Metrics []Metric
}

// Value returns the figure of unit, and whether the result has one.
func (r Result) Value(unit string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// Output is a section's run read back: its machine, command, benchmark
// lines, and the tests or benchmarks that were skipped or failed.
type Output struct {
	Machine Machine
	Command string
	Results []Result
	Skipped []string // "Name: reason"
	Failed  []string // "Name: first line of the failure", or "package pkg"
	// Unparsed holds the benchmark lines benchfmt could not read, each
	// as "file:line: reason".
	Unparsed []string
}

var (
	procSuffix = regexp.MustCompile(`-\d+$`)
	// "--- SKIP: BenchmarkX (0.00s)" / "--- FAIL: ..."
	statusLine = regexp.MustCompile(`^\s*--- (SKIP|FAIL): (\S+)`)
	// the log line under it: "    file_test.go:12: reason"
	logLine = regexp.MustCompile(`^\s+\S+\.go:\d+: (.*)$`)
	// "FAIL	github.com/x/y	0.1s" or "FAIL github.com/x/y [build failed]"
	pkgFail = regexp.MustCompile(`^FAIL\s+(\S+)\s`)
)

// ParseOutput reads the output of a section's run: the configuration
// lines Section.Run writes, then standard `go test -bench` output.
// Benchmark lines are read with benchfmt; a line benchfmt cannot parse is
// kept in Output.Unparsed, named by file and line.
func ParseOutput(r io.Reader, name string) (*Output, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	out := &Output{}
	br := benchfmt.NewReader(bytes.NewReader(data), name)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			// A benchmark that writes to stdout can split its own result
			// line; keep going and show the line in the report.
			out.Unparsed = append(out.Unparsed, rec.Error())
		case *benchfmt.Result:
			res := Result{
				Name:  procSuffix.ReplaceAllString(strings.TrimPrefix(rec.Name.String(), "Benchmark"), ""),
				Pkg:   rec.GetConfig("pkg"),
				Iters: rec.Iters,
			}
			for _, v := range rec.Values {
				u, x := v.Unit, v.Value
				if v.OrigUnit != "" {
					u, x = v.OrigUnit, v.OrigValue
				}
				res.Metrics = append(res.Metrics, Metric{Unit: u, Value: x})
			}
			out.Results = append(out.Results, res)
			if out.Command == "" {
				if err := out.readConfig(rec); err != nil {
					return nil, fmt.Errorf("parse %s: %w", name, err)
				}
			}
		}
	}
	if err := br.Err(); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	if out.Command == "" {
		// No benchmark line (all skipped, or the run failed): read the
		// header lines directly.
		if err := out.readHeader(data); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
	}
	out.readStatus(data)
	return out, nil
}

// readConfig takes the machine from a result's file configuration.
func (o *Output) readConfig(rec *benchfmt.Result) error {
	return o.setHeader(func(k string) string { return rec.GetConfig(k) })
}

// readHeader takes the machine from the "key: value" lines at the top.
func (o *Output) readHeader(data []byte) error {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok || strings.ContainsAny(k, " \t") {
			break
		}
		kv[k] = v
	}
	return o.setHeader(func(k string) string { return kv[k] })
}

func (o *Output) setHeader(get func(string) string) error {
	date := get(keyDate)
	if date == "" {
		return fmt.Errorf("no %q line: not written by benchreport (run it through `make bench-report`)", keyDate)
	}
	t, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return fmt.Errorf("%s: %w", keyDate, err)
	}
	cores, err := strconv.Atoi(get(keyCores))
	if err != nil {
		return fmt.Errorf("%s: %w", keyCores, err)
	}
	o.Machine = Machine{Date: t.UTC(), CPU: get(keyCPU), Cores: cores, Load: get(keyLoad)}
	o.Command = get(keyCommand)
	return nil
}

// readStatus collects skipped and failed tests with their first log line.
func (o *Output) readStatus(data []byte) {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if m := pkgFail.FindStringSubmatch(l); m != nil {
			o.Failed = append(o.Failed, "package "+m[1])
			continue
		}
		m := statusLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		what := m[2]
		if i+1 < len(lines) {
			if lm := logLine.FindStringSubmatch(lines[i+1]); lm != nil {
				what += ": " + strings.TrimSpace(lm[1])
			}
		}
		if m[1] == "SKIP" {
			o.Skipped = append(o.Skipped, what)
		} else {
			o.Failed = append(o.Failed, what)
		}
	}
}
