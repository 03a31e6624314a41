package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// quotedCommand finds the anshim commands that hints and next-step lines
// name: in single quotes, or after "with: " to the end of the line.
var quotedCommand = regexp.MustCompile(`'(anshim [^']*)'|with: (anshim .*)$`)

// flagName finds the flags in a text.
var flagName = regexp.MustCompile(`(?:^|[\s(\[])--([a-z][a-z0-9-]*)`)

// splitWords splits a command line as a POSIX shell does for the words
// shellQuote writes: plain words and double-quoted words with \ escapes.
func splitWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", line)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// commandPath returns the subcommand words of an anshim command line (the
// words after "anshim" up to the first flag or placeholder) and the rest.
func commandPath(words []string) (path, rest []string) {
	words = words[1:] // "anshim"
	for len(words) > 0 && regexp.MustCompile(`^[a-z]+$`).MatchString(words[0]) {
		path, words = append(path, words[0]), words[1:]
	}
	return path, words
}

// definedFlags returns the flags that "anshim PATH --help" lists.
func definedFlags(t *testing.T, path []string) map[string]bool {
	t.Helper()
	code, stdout, stderr := testEnv(testNow, "").anshim(t, append(slices.Clone(path), "--help")...)
	if code != 0 {
		t.Fatalf("anshim %s --help: exit %d\n%s", strings.Join(path, " "), code, stderr)
	}
	flags := map[string]bool{"help": true}
	for _, m := range regexp.MustCompile(`(?m)^  --([a-z0-9-]+)`).FindAllStringSubmatch(stdout, -1) {
		flags[m[1]] = true
	}
	return flags
}

// checkHint reports the flags a hint line names that do not exist: flags of
// a command it names must be that command's; other flags must be those of
// the command that printed it, ran.
func checkHint(t *testing.T, ran []string, line string) {
	t.Helper()
	rest := line
	for _, m := range quotedCommand.FindAllStringSubmatch(line, -1) {
		cmd := m[1] + m[2]
		rest = strings.Replace(rest, cmd, "", 1)
		path, args := commandPath(strings.Fields(cmd))
		defined := definedFlags(t, path)
		for _, f := range flagName.FindAllStringSubmatch(" "+strings.Join(args, " "), -1) {
			if !defined[f[1]] {
				t.Errorf("anshim %s printed %q: 'anshim %s' has no flag --%s", strings.Join(ran, " "), line, strings.Join(path, " "), f[1])
			}
		}
	}
	if ranPath, _ := commandPath(append([]string{"anshim"}, ran...)); len(flagName.FindAllString(rest, -1)) > 0 {
		defined := definedFlags(t, ranPath)
		for _, f := range flagName.FindAllStringSubmatch(rest, -1) {
			if !defined[f[1]] {
				t.Errorf("anshim %s printed %q: it has no flag --%s", strings.Join(ran, " "), line, f[1])
			}
		}
	}
}

// hintLines returns the hint lines of stderr and the next-step lines
// ("... with: anshim ...") of stdout and stderr.
func hintLines(stdout, stderr string) []string {
	var lines []string
	for _, l := range strings.Split(stdout+"\n"+stderr, "\n") {
		if strings.HasPrefix(l, "anshim: hint: ") || strings.Contains(l, "'anshim ") || strings.Contains(l, "with: anshim ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// Ensure that every hint of the commands that reach a central names only
// flags that exist on the command it names (or, for bare flags, on the
// command that failed): each command is run into its errors against a
// real central.
func TestHints_FlagsExist(t *testing.T) {
	url, tokenFile := startCentral(t)
	e := testEnv(time.Now(), "")
	admin := []string{"--central", url, "--admin-token-file", tokenFile}
	missing := filepath.Join(t.TempDir(), "none.token")
	wrong := filepath.Join(t.TempDir(), "wrong.token")
	writeFile(t, wrong, "0000\n")
	e.mustRun(t, append(venueAddArgs("cafe-1"), admin...)...) // applied, not approved
	id := strings.TrimSpace(e.mustRun(t, "person", "add", "--name", "Kim", "--phone", "010-1234-5678", "--central", url, "--admin-token-file", tokenFile))

	for _, args := range [][]string{
		// Token files: missing and wrong, on an admin and an investigator command.
		{"venue", "show", "--id", "cafe-1", "--central", url, "--admin-token-file", missing},
		{"venue", "show", "--id", "cafe-1", "--central", url, "--admin-token-file", wrong},
		{"trace", "--phone", "010-1234-5678", "--onset", "2026-11-12", "--case-ref", "JJ-1", "--central", url, "--token-file", missing},
		{"trace", "--phone", "010-1234-5678", "--onset", "2026-11-12", "--case-ref", "JJ-1", "--central", url, "--token-file", wrong},
		{"trace", "--phone", "010-9999-8888", "--onset", "2026-11-12", "--case-ref", "JJ-1", "--central", url, "--token-file", tokenFile},
		{"trace", "--phone", "02-123-4567", "--onset", "2026-11-12", "--case-ref", "JJ-1", "--central", url, "--token-file", tokenFile},
		{"trace", "--phone", "010-1234-5678", "--case-ref", "JJ-1", "--central", url, "--token-file", tokenFile},
		{"trace", "--phone", "010-1234-5678", "--onset", "2026-11-12", "--central", "http://127.0.0.1:1", "--token-file", tokenFile},
		// Venues and devices.
		append(venueAddArgs("cafe-2"), admin...),
		append(venueAddArgs("cafe-1"), admin...),
		append(venueAddArgs("cafe-9", "--lat", "x"), admin...),
		append([]string{"venue", "show", "--id", "nowhere-1"}, admin...),
		append([]string{"venue", "status", "--id", "cafe-1", "--status", "suspended"}, admin...),
		append([]string{"venue", "poster", "--id", "cafe-1", "--png", filepath.Join(t.TempDir(), "p.png")}, admin...),
		append([]string{"device", "token", "--venue", "cafe-1"}, admin...),
		append([]string{"device", "token", "--venue", "nowhere-1"}, admin...),
		// Persons.
		append([]string{"person", "add", "--name", "Lee", "--phone", "+82 10 1234 5678"}, admin...),
		append([]string{"person", "add", "--name", "Lee", "--phone", "02-123-4567"}, admin...),
		append([]string{"person", "add", "--name", "Lee", "--phone", "010-5555-6666"}, admin...),
		append([]string{"person", "pass", "--id", "p-0000000000000000"}, admin...),
		append([]string{"person", "revoke", "--id", id, "--serial", "9"}, admin...),
		append([]string{"person", "revoke", "--id", "p-0000000000000000", "--serial", "1"}, admin...),
	} {
		_, stdout, stderr := e.anshim(t, args...)
		lines := hintLines(stdout, stderr)
		if len(lines) == 0 {
			t.Errorf("anshim %s printed no hint:\n%s%s", strings.Join(args, " "), stdout, stderr)
		}
		for _, l := range lines {
			checkHint(t, args, l)
		}
	}
}

// Ensure that every anshim command a string in this package's code names
// in single quotes ('anshim venue status --id %s ...', in hints and usage
// texts) has the flags it names, whether or not a test reaches that hint.
func TestHints_QuotedCommandsInCode(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			lit, ok := node.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
			}
			for _, m := range regexp.MustCompile(`'(anshim [^']*)'`).FindAllStringSubmatch(s, -1) {
				n++
				path, args := commandPath(strings.Fields(m[1]))
				defined := definedFlags(t, path)
				for _, fl := range flagName.FindAllStringSubmatch(" "+strings.Join(args, " "), -1) {
					if !defined[fl[1]] {
						t.Errorf("%s: %q: 'anshim %s' has no flag --%s", fset.Position(lit.Pos()), m[1], strings.Join(path, " "), fl[1])
					}
				}
			}
			return true
		})
	}
	if n < 10 {
		t.Errorf("found %d quoted commands in the code, want the hints' (10 or more)", n)
	}
}

// pasteCommands returns the anshim commands that a hint or next-step line
// names, split into words as a shell would, without "anshim".
func pasteCommands(t *testing.T, text string) [][]string {
	t.Helper()
	var cmds [][]string
	for _, l := range strings.Split(text, "\n") {
		for _, m := range quotedCommand.FindAllStringSubmatch(l, -1) {
			cmds = append(cmds, splitWords(t, m[1]+m[2])[1:])
		}
	}
	return cmds
}

// Ensure that the next steps that the person, venue and device commands
// print are commands that work as pasted: with the --central and token
// flags of the command that printed them.
func TestHints_Paste(t *testing.T) {
	url, tokenFile := startCentral(t)
	e := testEnv(time.Now(), "")
	admin := []string{"--central", url, "--admin-token-file", tokenFile}
	mustPaste := func(from string, text string, want int) {
		t.Helper()
		cmds := pasteCommands(t, text)
		if len(cmds) != want {
			t.Fatalf("%s: %d commands to paste in %q, want %d", from, len(cmds), text, want)
		}
		for _, args := range cmds {
			if code, stdout, stderr := e.anshim(t, args...); code != 0 {
				t.Errorf("%s: pasted %q: exit %d\n%s%s", from, args, code, stdout, stderr)
			}
		}
	}

	_, _, stderr := e.anshim(t, append([]string{"person", "add", "--name", "Kim", "--phone", "010-2222-3333"}, admin...)...)
	mustPaste("person add", stderr, 2) // an app pass and a card
	_, _, stderr = e.anshim(t, append([]string{"person", "add", "--name", "Kim", "--phone", "010 2222 3333"}, admin...)...)
	mustPaste("person add of a registered number", stderr, 1)

	stdout := e.mustRun(t, append(venueAddArgs("cafe-1"), admin...)...)
	_, _, stderr = e.anshim(t, append([]string{"device", "token", "--venue", "cafe-1"}, admin...)...)
	if !strings.Contains(stdout, "approve it with: anshim venue status ") || !strings.Contains(stderr, "approve the venue first") {
		t.Fatalf("venue add:\n%s\ndevice token of an applied venue:\n%s", stdout, stderr)
	}
	mustPaste("device token of an applied venue", stderr, 1) // approves it
	e.mustRun(t, append([]string{"device", "token", "--venue", "cafe-1"}, admin...)...)
	_, _, stderr = e.anshim(t, append(venueAddArgs("cafe-1"), admin...)...)
	mustPaste("venue add of a registered id", stderr, 1) // shows it
}

// Ensure that "anshim trace" of a number no visitor is registered with
// says so, and how to register one (a command that works with the NAME
// filled in); and that a number that is not a mobile one is named once.
func TestTrace_Phone(t *testing.T) {
	url, tokenFile := startCentral(t)
	e := testEnv(time.Now(), "")
	trace := func(phone string) (int, string) {
		code, _, stderr := e.anshim(t, "trace", "--central", url, "--token-file", tokenFile, "--phone", phone, "--onset", "2026-11-12", "--case-ref", "JJ-1")
		return code, stderr
	}
	code, stderr := trace("010-9999-8888")
	if code != 1 || !strings.Contains(stderr, "anshim: error: central: case: no visitor is registered with this phone number (HTTP 404)") ||
		strings.Contains(stderr, "blind index") ||
		!strings.Contains(stderr, "anshim: hint: check --phone; a visitor is registered (by an administrator) with 'anshim person add --central "+url+
			" --admin-token-file "+tokenFile+" --name NAME --phone 010-9999-8888'") {
		t.Fatalf("unknown number: exit %d\n%s", code, stderr)
	}
	cmds := pasteCommands(t, stderr)
	if len(cmds) != 1 {
		t.Fatalf("%d commands in %q", len(cmds), stderr)
	}
	args := slices.Clone(cmds[0])
	args[slices.Index(args, "NAME")] = "Park"
	e.mustRun(t, args...)
	if code, stderr := trace("010-9999-8888"); code != 0 {
		t.Errorf("trace after registering the number as the hint says: exit %d\n%s", code, stderr)
	}

	code, stderr = trace("02-123-4567")
	if code != 1 || !strings.Contains(stderr, "anshim: error: central: invalid request: phone: not a mobile number") ||
		strings.Count(stderr, "phone:") != 1 || !strings.Contains(stderr, "anshim: hint: give a mobile number") {
		t.Errorf("landline: exit %d\n%s", code, stderr)
	}
}
