package docs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleConfig is a config struct with each kind of field the checker meets.
type sampleConfig struct {
	Name  string `json:"name"`
	Inner struct {
		A int `json:"a,omitempty"`
	} `json:"inner"`
	NoTag string
	Now   func() `json:"-"`
	priv  int
}

var _ = sampleConfig{}.priv

// Ensure that jsonFields names fields as encoding/json does, nested ones
// with dots, leaving out "-" and unexported fields.
func TestJSONFields(t *testing.T) {
	var got []string
	for _, f := range jsonFields(reflect.TypeFor[sampleConfig]()) {
		got = append(got, f.name+"="+f.goPath)
	}
	want := []string{"name=Name", "inner=Inner", "inner.a=Inner.A", "NoTag=NoTag"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jsonFields = %q, want %q", got, want)
	}
}

// Ensure that checkFields reports missing, stale and duplicate rows, and
// nothing for a complete table.
func TestCheckFields(t *testing.T) {
	const complete = "# Doc\n\n## The sample (`sample.Config`)\n\n| field | type |\n|---|---|\n" +
		"| `name` | string |\n| `inner` | object |\n| `inner.a` | int |\n| `NoTag` | string |\n\n## Next\n\n| `stray` | x |\n"
	tg := docTarget{marker: "`sample.Config`", source: "sample.go"}
	for _, tc := range []struct {
		name string
		doc  string
		want []string // substrings, one per problem, in order
	}{
		{"complete", complete, nil},
		{"missing nested field", strings.Replace(complete, "| `inner.a` | int |\n", "", 1),
			[]string{`field "inner.a" (Go: sampleConfig.Inner.A in sample.go) is not documented: add the row "| ` + "`inner.a`" + ` |`}},
		{"stale row", strings.Replace(complete, "| `NoTag` | string |\n", "| `NoTag` | string |\n| `old_field` | bool |\n", 1),
			[]string{"row `old_field` names no field of sample.Config (sample.go)"}},
		{"duplicate row", strings.Replace(complete, "| `name` | string |\n", "| `name` | string |\n| `name` | string |\n", 1),
			[]string{"field `name` has two rows"}},
		{"row in a code block does not count", strings.Replace(complete, "| `name` | string |\n", "```\n| `name` | string |\n```\n", 1),
			[]string{`field "name" (Go: sampleConfig.Name`}},
		{"no section", "# Doc\n\n| `name` | string |\n", []string{"no heading names `sample.Config`"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkFields(tc.doc, tg, reflect.TypeFor[sampleConfig]())
			if len(got) != len(tc.want) {
				t.Fatalf("checkFields = %d problems %q, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// Ensure that checkFlags reports flags not named and flags named that do
// not exist, and ignores flags in code blocks and other commands' spans.
func TestCheckFlags(t *testing.T) {
	flags := map[string]string{"data": "run.go:10", "scanner": "run.go:11"}
	tg := docTarget{marker: "`kiosk run`", source: "run.go"}
	base := "## `kiosk run`\n\n| `data` | `--data DIR` |\n\nScanners: `--scanner SPEC`, repeatable; see `kiosk enroll --token`.\n"
	for _, tc := range []struct {
		name string
		doc  string
		want []string
	}{
		{"complete", base, nil},
		{"missing", strings.Replace(base, "`--scanner SPEC`", "scanner", 1),
			[]string{"flag --scanner of kiosk run (defined at run.go:11) is not documented"}},
		{"only in a code block", strings.Replace(base, "Scanners: `--scanner SPEC`", "```\nkiosk run --scanner stdin\n```\n", 1),
			[]string{"flag --scanner of kiosk run"}},
		{"stale", base + "Also `--bogus-flag`.\n", []string{"names `--bogus-flag`, which kiosk run does not have"}},
		{"help is fine", base + "`--help` prints them.\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkFlags(tc.doc, tg, flags)
			if len(got) != len(tc.want) {
				t.Fatalf("checkFlags = %d problems %q, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// Ensure that commandFlags finds the flags a command defines itself and
// through the package's helpers, not those of other commands, and refuses
// a flag name it cannot read.
func TestCommandFlags(t *testing.T) {
	const src = `package main

import "flag"

type cfgFlags struct{ store *string }

func addCommon(fs *flag.FlagSet) *cfgFlags {
	fs.Int("replicas", 0, "")
	return &cfgFlags{store: fs.String("store", "", "")}
}

func (c *cfgFlags) apply(fs *flag.FlagSet) { var d string; fs.StringVar(&d, "data", "", "") }

func runServe(args []string) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := addCommon(fs)
	c.apply(fs)
	var v flagValue
	fs.Var(&v, "scanner", "")
	_ = fs.Bool("trust-clock", false, "")
	_ = v.String()
}

func runOther(fs *flag.FlagSet) { fs.Bool("other", false, "") }

type flagValue struct{}

func (flagValue) String() string   { return "" }
func (flagValue) Set(string) error { return nil }
`
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", src)
	write("main_test.go", "package main\n\nimport \"flag\"\n\nfunc runServe2() { flag.Bool(\"test-only\", false, \"\") }\n")
	got, err := commandFlags(dir, "runServe")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range sortedKeys(got) {
		names = append(names, n)
	}
	want := []string{"data", "replicas", "scanner", "store", "trust-clock"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("commandFlags = %q, want %q", names, want)
	}
	if where := got["store"]; !strings.HasSuffix(where, "main.go:9") {
		t.Errorf("store defined at %q, want …main.go:9", where)
	}

	write("main.go", strings.Replace(src, `fs.Int("replicas"`, `fs.Int(replicasFlag`, 1)+"\nconst replicasFlag = \"replicas\"\n")
	if _, err := commandFlags(dir, "runServe"); err == nil || !strings.Contains(err.Error(), "not a string literal") {
		t.Errorf("commandFlags with a constant flag name: err = %v, want one naming the non-literal name", err)
	}
	if _, err := commandFlags(dir, "runMissing"); err == nil {
		t.Error("commandFlags of a missing function: no error")
	}
}
