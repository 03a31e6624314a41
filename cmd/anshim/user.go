package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/anshim/anshim/internal/cli"
)

const userUsage = `anshim user manages the web accounts of a running central server: the
people who sign in to its pages (administrators, investigators, business
owners, clerks). Their names are the names of the API tokens too: an
account and a token of one name are one person with one role, and every
audit event names the account that acted. A business owner can also sign
up on the portal (/signup).`

// userCommands is the table of "anshim user" subcommands.
func (e *env) userCommands() []cli.Command {
	return []cli.Command{
		{Name: "add", Summary: "add a web account (password from a prompt or --password-file)", Run: e.runUserAdd},
		{Name: "list", Summary: "list the web accounts, disabled ones too", Run: e.runUserList},
		{Name: "disable", Summary: "disable a web account at once (and revoke its API token)", Run: e.runUserDisable},
	}
}

// runUser runs "anshim user".
func (e *env) runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, "anshim user", userUsage, e.userCommands(), args, stdout, stderr)
}

// readPassword reads a password: the first line of file, or typed at a
// prompt on stderr (twice, without echo when standard input is a
// terminal).
func (e *env) readPassword(file string, stderr io.Writer) (string, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		pw, _, _ := strings.Cut(string(data), "\n")
		return strings.TrimSuffix(pw, "\r"), nil
	}
	in := e.stdin
	if in == nil {
		in = os.Stdin
	}
	r := bufio.NewReader(in)
	read := func(prompt string) (string, error) {
		fmt.Fprint(stderr, prompt)
		restore := noEcho(in)
		line, err := r.ReadString('\n')
		restore()
		if f, ok := in.(*os.File); ok && isTerminal(f) {
			fmt.Fprintln(stderr)
		}
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	pw, err := read("Password: ")
	if err != nil {
		return "", err
	}
	again, err := read("Password again: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", cli.WithHint(errors.New("the two passwords differ"), "type the same password twice")
	}
	return pw, nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// noEcho turns off the echo of a terminal in and returns what turns it
// back on; for anything else it does nothing.
func noEcho(in io.Reader) func() {
	f, ok := in.(*os.File)
	if !ok {
		return func() {}
	}
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return func() {}
	}
	old := *t
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON
	if unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t) != nil {
		return func() {}
	}
	return func() { unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, &old) }
}
