package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// Ensure that flags may follow positional arguments, up to "--".
func TestFlagSet_ParseArgs(t *testing.T) {
	for _, tt := range []struct {
		args       []string
		positional []string
		n          int
	}{
		{[]string{"a", "--n", "3", "b"}, []string{"a", "b"}, 3},
		{[]string{"--n=2", "-"}, []string{"-"}, 2},
		{[]string{"-", "--n", "4"}, []string{"-"}, 4},
		{[]string{"--", "--n", "5"}, []string{"--n", "5"}, 0},
		{[]string{"x", "--", "-y"}, []string{"x", "-y"}, 0},
		{nil, nil, 0},
	} {
		fs := NewFlagSet("prog", "Usage: prog")
		n := fs.Int("n", 0, "a number")
		got, err := fs.ParseArgs(tt.args, io.Discard)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !slices.Equal(got, tt.positional) || *n != tt.n {
			t.Errorf("%q: positional %q n %d, want %q %d", tt.args, got, *n, tt.positional, tt.n)
		}
	}
}

// Ensure that --help prints the usage and flags on stdout and exits 0, and
// that a bad flag is a usage error with a hint.
func TestFlagSet_Help(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "-help"} {
		fs := NewFlagSet("prog sub", "Usage: prog sub [--n N]\n\nDoes things.")
		fs.Int("n", 7, "a `number`")
		var out bytes.Buffer
		_, err := fs.ParseArgs([]string{"x", arg}, &out)
		if Report(io.Discard, "prog", err) != 0 {
			t.Errorf("%s: exit code not 0: %v", arg, err)
		}
		want := "Usage: prog sub [--n N]\n\nDoes things.\n\nFlags:\n\n  --n number\n    \ta number (default 7)\n\n  --help\n    \tshow this help\n"
		if out.String() != want {
			t.Errorf("%s: help\n%s\nwant\n%s", arg, out.String(), want)
		}
	}
	fs := NewFlagSet("prog sub", "Usage: prog sub")
	_, err := fs.ParseArgs([]string{"--nope"}, io.Discard)
	var stderr bytes.Buffer
	if code := Report(&stderr, "prog", err); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	want := "prog: error: flag provided but not defined: -nope\nprog: hint: run 'prog sub --help' for usage\n"
	if stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

// Ensure that errors print with their hints, innermost first, and map to
// exit codes.
func TestReport(t *testing.T) {
	var stderr bytes.Buffer
	err := WithHint(fmt.Errorf("outer: %w", WithHint(errors.New("inner"), "specific")), "general")
	if code := Report(&stderr, "p", err); code != 1 {
		t.Errorf("exit %d", code)
	}
	if want := "p: error: outer: inner\np: hint: specific\np: hint: general\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	if Report(io.Discard, "p", nil) != 0 || Report(io.Discard, "p", Usagef("x")) != 2 {
		t.Error("wrong exit codes")
	}
	if !IsUsage(fmt.Errorf("wrapped: %w", Usagef("x"))) || IsUsage(errors.New("x")) {
		t.Error("IsUsage")
	}
	if WithHint(nil, "x") != nil {
		t.Error("WithHint(nil) is not nil")
	}
}

// Ensure that Dispatch finds commands and gives help.
func TestDispatch(t *testing.T) {
	var ran []string
	cmds := []Command{{Name: "a", Summary: "does a", Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		ran = append(ran, strings.Join(args, " "))
		return nil
	}}}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), "p", "P does.", cmds, []string{"a", "x", "y"}, &out, &errOut); code != 0 || !slices.Equal(ran, []string{"x y"}) {
		t.Errorf("code %d ran %q", code, ran)
	}
	if code := Main(context.Background(), "p", "P does.", cmds, []string{"help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "a          does a") {
		t.Errorf("help: code %d\n%s", code, out.String())
	}
	if Main(context.Background(), "p", "", cmds, []string{"help", "a"}, io.Discard, io.Discard) != 0 || !slices.Equal(ran, []string{"x y", "--help"}) {
		t.Errorf("help a: ran %q", ran)
	}
	errOut.Reset()
	if code := Main(context.Background(), "p", "", cmds, []string{"b"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `p: error: unknown command "b"`) {
		t.Errorf("unknown: code %d\n%s", code, errOut.String())
	}
}

func TestParseTime(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"2025-03-01", time.Date(2025, 2, 28, 15, 0, 0, 0, time.UTC)},
		{"2025-03-01T09:30", time.Date(2025, 3, 1, 0, 30, 0, 0, time.UTC)},
		{"2025-03-01 09:30:05", time.Date(2025, 3, 1, 0, 30, 5, 0, time.UTC)},
		{"2025-03-01T09:30:00Z", time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)},
		{"2025-03-01T09:30:00+01:00", time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)},
	} {
		got, err := ParseTime(tt.in, kst)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "now", "2025-13-01", "01/03/2025"} {
		if _, err := ParseTime(in, kst); err == nil {
			t.Errorf("ParseTime(%q) succeeded", in)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	kst := KST()
	from := time.Date(2025, 1, 31, 20, 0, 0, 0, time.UTC) // 2025-02-01 05:00 KST
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"2025-12-31", time.Date(2025, 12, 31, 14, 59, 59, 0, time.UTC)},
		{"1y", time.Date(2026, 1, 31, 20, 0, 0, 0, time.UTC)},
		{"1mo", time.Date(2025, 2, 28, 20, 0, 0, 0, time.UTC)}, // calendar month in KST
		{"90d", from.AddDate(0, 0, 90)},
		{"36h", from.Add(36 * time.Hour)},
		{"2025-06-01T12:00", time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC)},
	} {
		got, err := ParseExpiry(tt.in, from, kst)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "0d", "-1y", "y", "1w", "-5h", "forever"} {
		if _, err := ParseExpiry(in, from, kst); err == nil {
			t.Errorf("ParseExpiry(%q) succeeded", in)
		}
	}
}

// Ensure that KST is nine hours ahead of UTC, with or without tzdata.
func TestKST(t *testing.T) {
	_, off := time.Date(2025, 7, 1, 0, 0, 0, 0, KST()).Zone()
	if off != 9*3600 {
		t.Errorf("KST offset %d", off)
	}
}

// Ensure that the usage errors of a command carry the one hint that points
// at its --help, exit 2, and that Required names exactly the flags left
// empty, in the order asked.
func TestUsageErrors(t *testing.T) {
	newFS := func(args ...string) *FlagSet {
		fs := NewFlagSet("prog sub", "Usage: prog sub")
		fs.String("data", "", "dir")
		fs.String("venue", "", "id")
		fs.String("mode", "entry", "mode")
		if _, err := fs.ParseArgs(args, io.Discard); err != nil {
			t.Fatal(err)
		}
		return fs
	}
	const hint = "p: hint: run 'prog sub --help' for usage\n"
	for _, tt := range []struct {
		name   string
		err    error
		stderr string // "" for a nil error
	}{
		{"UsageErrorf", UsageErrorf("prog sub", "unexpected argument %q", "x"), "p: error: unexpected argument \"x\"\n" + hint},
		{"FlagSet.Usagef", newFS().Usagef("--n %d: too large", 9), "p: error: --n 9: too large\n" + hint},
		{"Required/none given", newFS().Required("data", "venue"), "p: error: missing --data, --venue\n" + hint},
		{"Required/order asked", newFS().Required("venue", "data"), "p: error: missing --venue, --data\n" + hint},
		{"Required/one given", newFS("--data", "d").Required("data", "venue"), "p: error: missing --venue\n" + hint},
		{"Required/white space", newFS("--data", " ", "--venue", "v").Required("data", "venue"), "p: error: missing --data\n" + hint},
		{"Required/default", newFS().Required("mode"), ""},
		{"Required/all given", newFS("--data", "d", "--venue", "v").Required("data", "venue"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := Report(&stderr, "p", tt.err)
			if stderr.String() != tt.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.stderr)
			}
			if want := map[bool]int{true: 0, false: 2}[tt.stderr == ""]; code != want {
				t.Errorf("exit %d, want %d", code, want)
			}
		})
	}
	if got := HelpHint("anshim venue add"); got != "run 'anshim venue add --help' for usage" {
		t.Errorf("HelpHint = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Required of an undefined flag did not panic")
		}
	}()
	newFS().Required("nope")
}

// Ensure that ParseOnlyFlags parses flags anywhere and refuses the first
// positional argument as a usage error that points at --help.
func TestFlagSet_ParseOnlyFlags(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		n      int
		stderr string
	}{
		{[]string{"--n", "3"}, 3, ""},
		{nil, 0, ""},
		{[]string{"--n", "3", "extra", "more"}, 3, "p: error: unexpected argument \"extra\"\np: hint: run 'prog sub --help' for usage\n"},
		{[]string{"--", "--n"}, 0, "p: error: unexpected argument \"--n\"\np: hint: run 'prog sub --help' for usage\n"},
		{[]string{"-"}, 0, "p: error: unexpected argument \"-\"\np: hint: run 'prog sub --help' for usage\n"},
	} {
		fs := NewFlagSet("prog sub", "Usage: prog sub")
		n := fs.Int("n", 0, "a number")
		var stderr bytes.Buffer
		code := Report(&stderr, "p", fs.ParseOnlyFlags(tt.args, io.Discard))
		if stderr.String() != tt.stderr || *n != tt.n || (code == 2) != (tt.stderr != "") {
			t.Errorf("%q: exit %d, n %d, stderr %q; want n %d, stderr %q", tt.args, code, *n, stderr.String(), tt.n, tt.stderr)
		}
	}
}
