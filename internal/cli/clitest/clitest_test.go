package clitest

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/anshim/anshim/internal/cli"
)

// help returns what "p --help" prints for commands.
func help(t *testing.T, commands []cli.Command) string {
	t.Helper()
	var out bytes.Buffer
	if code := cli.Main(context.Background(), "p", "P does things.", commands, []string{"--help"}, &out, io.Discard); code != 0 {
		t.Fatalf("p --help: exit %d", code)
	}
	return out.String()
}

// Ensure that ListedCommands reads back the list that cli prints, names
// and summaries, and nothing of the text around it.
func TestListedCommands(t *testing.T) {
	cmds := []cli.Command{{Name: "a", Summary: "does a"}, {Name: "checkpoint", Summary: "takes one, then another"}, {Name: "z", Summary: "z z"}}
	got := ListedCommands(help(t, cmds))
	want := []ListedCommand{{"a", "does a"}, {"checkpoint", "takes one, then another"}, {"z", "z z"}}
	if !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q", got, want)
	}
	if got := ListedCommands("Usage: p sub --n N\n"); got != nil {
		t.Errorf("listed %q in a command's help", got)
	}
}

// Ensure that CheckCommandList accepts the help of the same table and names
// each way another table differs.
func TestCheckCommandList(t *testing.T) {
	cmds := []cli.Command{{Name: "init", Summary: "set up"}, {Name: "run", Summary: "run it"}}
	text := help(t, cmds)
	if err := CheckCommandList(text, cmds); err != nil {
		t.Errorf("same table: %v", err)
	}
	for _, tt := range []struct {
		name  string
		table []cli.Command
		want  string
	}{
		{"one more", append(slices.Clone(cmds), cli.Command{Name: "user", Summary: "u"}), `does not list "user"`},
		{"one fewer", cmds[:1], `lists "run", which is no command`},
		{"order", []cli.Command{cmds[1], cmds[0]}, `lists "init" where the command table has "run"`},
		{"summary", []cli.Command{cmds[0], {Name: "run", Summary: "run it now"}}, `run: "run it", want "run it now"`},
		{"two lines", []cli.Command{cmds[0], {Name: "run", Summary: "run it\nand more"}}, "want one line"},
		{"empty summary", []cli.Command{cmds[0], {Name: "run"}}, "want one line"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCommandList(text, tt.table)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %s", err, tt.want)
			}
		})
	}
	if err := CheckCommandList("Usage: p\n", cmds); err == nil {
		t.Error("a help without a command list passed")
	}
}
