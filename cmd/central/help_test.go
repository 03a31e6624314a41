package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/anshim/anshim/internal/cli/clitest"
)

// Ensure that "central --help" lists every command of the table, one line
// each, with its summary.
func TestHelp_ListsEveryCommand(t *testing.T) {
	e := new(env)
	var stdout, stderr bytes.Buffer
	if code := e.main(context.Background(), []string{"--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("central --help: exit %d\n%s", code, stderr.String())
	}
	if err := clitest.CheckCommandList(stdout.String(), e.commands()); err != nil {
		t.Errorf("central --help: %v\n%s", err, stdout.String())
	}
}
