package main

import (
	"strings"
	"testing"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/internal/cli/clitest"
)

// Ensure that "anshim --help" lists every command of the table, one line
// each, with its summary, and that so does the help of each command group
// ("anshim pass --help"); a group this test has no table for has each
// command it lists answer --help.
func TestHelp_ListsEveryCommand(t *testing.T) {
	e := testEnv(testNow, "")
	tables := map[string][]cli.Command{
		"":       e.commands(),
		"pass":   e.passCommands(),
		"venue":  e.venueCommands(),
		"device": e.deviceCommands(),
		"person": e.personCommands(),
		"token":  e.tokenCommands(),
		"ledger": e.ledgerCommands(),
		"user":   e.userCommands(),
	}
	help := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := e.anshim(t, append(args, "--help")...)
		if code != 0 || stderr != "" {
			t.Fatalf("anshim %s --help: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return stdout
	}
	if err := clitest.CheckCommandList(help(), tables[""]); err != nil {
		t.Errorf("anshim --help: %v", err)
	}
	groups := 0
	for _, c := range e.commands() {
		text := help(c.Name)
		if !strings.Contains(text, "\nCommands:\n") {
			continue
		}
		groups++
		table, ok := tables[c.Name]
		if !ok {
			for _, sub := range clitest.ListedCommands(text) {
				if !strings.HasPrefix(help(c.Name, sub.Name), "Usage: anshim "+c.Name+" "+sub.Name) {
					t.Errorf("anshim %s --help lists %s, whose --help has no usage line", c.Name, sub.Name)
				}
			}
			continue
		}
		if err := clitest.CheckCommandList(text, table); err != nil {
			t.Errorf("anshim %s --help: %v", c.Name, err)
		}
	}
	if groups < len(tables)-1 {
		t.Errorf("found %d command groups, want at least %d", groups, len(tables)-1)
	}
}
