package benchreport

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sampleSection is the section the golden file is rendered with.
var sampleSection = Section{
	Name: "sample",
	Goals: []Goal{
		{Text: "scan p50 ≤ 2× raw", Bench: "kiosk.ScanToCommit", Unit: "p50-ratio", Op: "<=", Limit: 2},
		{Text: "scan p99 ≤ 0.85 ms", Bench: "kiosk.ScanToCommit", Unit: "scan-p99-ms", Op: "<=", Limit: 0.85},
		{Text: "file sink ≥ 1M", Bench: "notify.FileSink_Send/.*", Unit: "msgs|total", Op: ">=", Limit: 1e6},
		{Text: "absent", Bench: "Nothing", Unit: "x", Op: "<=", Limit: 1},
	},
	Note: "Baseline: a raw commit.",
}

func readSample(t *testing.T) *Output {
	t.Helper()
	f, err := os.Open("testdata/sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := ParseOutput(f, "testdata/sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Ensure that ParseOutput reads the machine header, every benchmark line
// with its custom metrics, and the skipped, failed and unparsed lines.
func TestParseOutput(t *testing.T) {
	out := readSample(t)
	want := Machine{Date: time.Date(2026, 12, 6, 5, 1, 2, 0, time.UTC), CPU: "AMD EPYC 7B13", Cores: 2, Load: "1.52 1.10 0.80"}
	if out.Machine != want {
		t.Errorf("machine = %+v, want %+v", out.Machine, want)
	}
	if !strings.HasPrefix(out.Command, "go test -p 1") {
		t.Errorf("command = %q", out.Command)
	}
	if len(out.Results) != 6 {
		t.Fatalf("%d results, want 6: %+v", len(out.Results), out.Results)
	}
	r := out.Results[0]
	if r.Name != "ScanToCommit" || r.Iters != 3000 || !strings.HasSuffix(r.Pkg, "/kiosk") {
		t.Errorf("first result = %+v", r)
	}
	for unit, v := range map[string]float64{"ns/op": 612345, "p50-ratio": 2.05, "scan-p99-ms": 0.9} {
		if got, ok := r.Value(unit); !ok || got != v {
			t.Errorf("%s = %v, %v; want %v", unit, got, ok, v)
		}
	}
	if r := out.Results[4]; r.Name != "FileSink_Send/sync=on" || !strings.HasSuffix(r.Pkg, "/notify") {
		t.Errorf("sub-benchmark result = %+v", r)
	}
	if len(out.Skipped) != 1 || out.Skipped[0] != "BenchmarkWear: SKIPPED: set ANSHIM_WEAR_BENCH=1" {
		t.Errorf("skipped = %q", out.Skipped)
	}
	if len(out.Failed) != 2 || out.Failed[0] != "BenchmarkWebhook_Send: gateway: connection refused" ||
		out.Failed[1] != "package github.com/anshim/anshim/notify" {
		t.Errorf("failed = %q", out.Failed)
	}
	if len(out.Unparsed) != 1 || !strings.Contains(out.Unparsed[0], "sample.txt:") {
		t.Errorf("unparsed = %q", out.Unparsed)
	}
}

// Ensure that a run without any benchmark line still gives its machine,
// and that output not written by benchreport is refused with a hint.
func TestParseOutput_Header(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
	}{
		{"all skipped", "anshim-date: 2026-12-06T05:00:00Z\nanshim-cpu: x\nanshim-cores: 4\nanshim-load: 0 0 0\nanshim-command: go test\n--- SKIP: BenchmarkX\n    x_test.go:1: no PG\n", ""},
		{"plain go test", "goos: linux\nBenchmarkX-2 1 5 ns/op\n", "make bench-report"},
		{"bad date", "anshim-date: yesterday\nanshim-cores: 2\nBenchmarkX-2 1 5 ns/op\n", "anshim-date"},
		{"bad cores", "anshim-date: 2026-12-06T05:00:00Z\nanshim-cores: two\n", "anshim-cores"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := ParseOutput(strings.NewReader(tc.in), "in")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Machine.Cores != 4 || len(out.Skipped) != 1 {
				t.Errorf("out = %+v", out)
			}
		})
	}
}

// Ensure that Render gives the golden block, and that the block reads
// back with ParseDoc: one date, its tables, the goals not met.
func TestRender_Golden(t *testing.T) {
	got := Render(sampleSection, readSample(t))
	golden := filepath.Join("testdata", "sample.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Render differs from %s (go test -run Golden -update to accept):\n%s", golden, got)
	}
	doc := "# T\n\n" + beginMarker("sample") + "\n" + got + endMarker("sample") + "\n"
	gs, err := ParseDoc([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Name != "sample" || gs[0].Tables != 4 ||
		!gs[0].Date.Equal(time.Date(2026, 12, 6, 5, 1, 0, 0, time.UTC)) {
		t.Errorf("ParseDoc = %+v", gs)
	}
	if len(gs[0].NotMet) != 2 || !strings.Contains(gs[0].NotMet[0], "NOT met") || !strings.Contains(gs[0].NotMet[1], "not measured") {
		t.Errorf("not met = %q, want the p99 goal (median 0.9 > 0.85) and the absent one", gs[0].NotMet)
	}
}

// Ensure that Replace swaps only the block between a section's markers
// and refuses documents whose markers are missing, doubled or reversed.
func TestReplace(t *testing.T) {
	doc := "intro\n<!-- bench:a begin -->\nold a\n<!-- bench:a end -->\nmiddle\n<!-- bench:b begin -->\n<!-- bench:b end -->\nend\n"
	for _, tc := range []struct {
		name, doc, sec, block, want, err string
	}{
		{"replace", doc, "a", "new a\n", strings.Replace(doc, "old a", "new a", 1), ""},
		{"empty block filled", doc, "b", "b1\nb2", strings.Replace(doc, "<!-- bench:b begin -->\n", "<!-- bench:b begin -->\nb1\nb2\n", 1), ""},
		{"missing", doc, "c", "x", "", "add the two markers"},
		{"twice", doc + "<!-- bench:a begin -->\n", "a", "x", "", "want 1"},
		{"reversed", "<!-- bench:a end -->\n<!-- bench:a begin -->\n", "a", "x", "", "want 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Replace([]byte(tc.doc), tc.sec, tc.block)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// Ensure that ParseDoc refuses malformed generated blocks.
func TestParseDoc_Errors(t *testing.T) {
	line := "_Generated by `make bench-report` · 2026-12-06 05:01 UTC · cpu, 2 cores · load average at start 1 1 1_\n"
	for _, tc := range []struct{ name, doc, err string }{
		{"no date", "<!-- bench:a begin -->\nsome text\n<!-- bench:a end -->\n", "machine line"},
		{"empty", "<!-- bench:a begin -->\n<!-- bench:a end -->\n", "empty"},
		{"bad date", "<!-- bench:a begin -->\n" + strings.Replace(line, "2026-12-06", "2026-13-06", 1) + "<!-- bench:a end -->\n", "date"},
		{"ragged table", "<!-- bench:a begin -->\n" + line + "\n| a | b |\n|---|---|\n| 1 |\n<!-- bench:a end -->\n", "row 3 has 1 cells"},
		{"no separator", "<!-- bench:a begin -->\n" + line + "\n| a | b |\n| 1 | 2 |\n<!-- bench:a end -->\n", "separator"},
		{"unclosed", "<!-- bench:a begin -->\n" + line, "no end marker"},
		{"nested", "<!-- bench:a begin -->\n<!-- bench:b begin -->\n", "inside"},
		{"twice", "<!-- bench:a begin -->\n" + line + "<!-- bench:a end -->\n<!-- bench:a begin -->\n", "twice"},
		{"stray end", "<!-- bench:a end -->\n", "without its begin"},
		{"pending of another name", "<!-- bench:a begin -->\n" + PendingLine("b") + "\n<!-- bench:a end -->\n", "machine line"},
		{"malformed marker", "<!-- bench:A begin-->\n", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDoc([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want one containing %q", err, tc.err)
			}
		})
	}
}

// Ensure that figures keep three significant digits.
func TestNum(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 0.000123: "0.000123", 0.219: "0.219", 2.19: "2.19", 21.94: "21.9",
		219.4: "219", 2194: "2,194", 84: "84", 2: "2", 1234567.8: "1,234,568", -3.5: "-3.50", -12345: "-12,345",
	} {
		if got := Num(v); got != want {
			t.Errorf("Num(%v) = %q, want %q", v, got, want)
		}
	}
}

// Ensure that ReadMachine reads the CPU model and load average.
func TestReadMachine(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cpuinfo"), []byte("processor\t: 0\nmodel name\t: AMD  EPYC 7B13\nprocessor\t: 1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "loadavg"), []byte("1.52 1.10 0.80 3/400 1234\n"), 0o644)
	now := time.Date(2026, 12, 6, 5, 1, 2, 999, time.FixedZone("KST", 9*3600))
	m, err := ReadMachine(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if m.CPU != "AMD EPYC 7B13" || m.Load != "1.52 1.10 0.80" || m.Cores < 1 || !m.Date.Equal(now.Truncate(time.Second)) || m.Date.Location() != time.UTC {
		t.Errorf("machine = %+v", m)
	}
	os.WriteFile(filepath.Join(dir, "loadavg"), []byte("1.5\n"), 0o644)
	if _, err := ReadMachine(dir, now); err == nil {
		t.Error("short loadavg accepted")
	}
	if _, err := ReadMachine(filepath.Join(dir, "none"), now); err == nil {
		t.Error("missing cpuinfo accepted")
	}
}

// Ensure that every section of docs/benchmarks.md generated by
// `make bench-report` parses and carries a date (a separate section, hours
// to run, may still wait with PendingLine), and that every section
// benchreport knows has its markers there.
func TestDocBenchmarks(t *testing.T) {
	doc, err := os.ReadFile("../../docs/benchmarks.md")
	if err != nil {
		t.Fatal(err)
	}
	gs, err := ParseDoc(doc)
	if err != nil {
		t.Fatalf("docs/benchmarks.md: %v", err)
	}
	have := map[string]Generated{}
	for _, g := range gs {
		have[g.Name] = g
		if s, ok := Lookup(g.Name); g.Pending && (!ok || !s.Separate) {
			t.Errorf("section %s is not generated: only separate sections may wait (run make bench-report)", g.Name)
		}
		if g.Pending {
			t.Logf("section %s: not generated yet", g.Name)
			continue
		}
		if g.Date.Year() < 2026 {
			t.Errorf("section %s: date %v", g.Name, g.Date)
		}
		for _, n := range g.NotMet {
			t.Logf("section %s: goal %s", g.Name, n)
		}
	}
	for _, s := range Sections {
		if _, ok := have[s.Name]; !ok {
			t.Errorf("docs/benchmarks.md has no generated section %s (markers %s … %s)", s.Name, beginMarker(s.Name), endMarker(s.Name))
		}
	}
}

// Ensure that every section's command runs one package at a time and
// that the command line quotes what a shell would expand.
func TestSections(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Sections {
		if seen[s.Name] || !markerRE.MatchString(beginMarker(s.Name)) {
			t.Errorf("section name %q duplicated or not a marker name", s.Name)
		}
		seen[s.Name] = true
		if c := s.Command(); !strings.Contains(c, "go test -p 1 ") {
			t.Errorf("%s: %s", s.Name, c)
		}
	}
	if got := (Section{Env: []string{"A=1"}, Args: []string{"-bench", "^X$", "./p"}}).Command(); got != "A=1 go test -p 1 -bench '^X$' ./p" {
		t.Errorf("Command = %q", got)
	}
}

// FuzzParseOutput checks that any output ParseOutput accepts renders into
// a block that ParseDoc reads back with the run's date.
func FuzzParseOutput(f *testing.F) {
	sample, err := os.ReadFile("testdata/sample.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(sample))
	f.Add("anshim-date: 2026-12-06T05:00:00Z\nanshim-cores: 2\nanshim-command: go test\n--- SKIP: BenchmarkX\n")
	f.Add("anshim-date: 2026-12-06T05:00:00Z\nanshim-cores: 2\nBenchmarkA|B-2 1 5 ns/op 3 x|y\n")
	f.Add("anshim-date: 2026-12-06T05:00:00+09:00\nanshim-cores: 2\nBenchmarkA-2 1 5 ns/op\n")
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ParseOutput(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		block := Render(sampleSection, out)
		doc := beginMarker("f") + "\n" + block + "\n" + endMarker("f") + "\n"
		gs, err := ParseDoc([]byte(doc))
		if err != nil {
			t.Fatalf("rendered block does not parse: %v\n%s", err, block)
		}
		if len(gs) != 1 || !gs[0].Date.Equal(out.Machine.Date.Truncate(time.Minute)) {
			t.Fatalf("ParseDoc = %+v, want the date %v", gs, out.Machine.Date)
		}
	})
}
