// Package cli holds the conventions shared by Anshim's command-line tools:
// subcommand tables, flag parsing with --help on every command, and errors
// printed as "prog: error: ..." followed by "prog: hint: ..." lines that say
// what to do next.
//
// # Exit codes
//
// [Main] returns 0 on success, 2 for a usage error (see [Usagef]) and 1 for
// any other error.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Command is one subcommand of a tool.
type Command struct {
	// Name is the word that selects the command.
	Name string
	// Summary is a one-line description for the command list.
	Summary string
	// Run runs the command with the arguments after its name.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// hintError is an error with hints for the user.
type hintError struct {
	err   error
	hints []string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// WithHint returns err with a hint line: what the user should do next. It
// returns nil if err is nil.
func WithHint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hints: []string{fmt.Sprintf(format, args...)}}
}

// Hints returns the hints attached to err and the errors it wraps,
// innermost (most specific) first.
func Hints(err error) []string {
	var hints []string
	for err != nil {
		if h, ok := err.(*hintError); ok {
			hints = append(h.hints[:len(h.hints):len(h.hints)], hints...)
		}
		err = errors.Unwrap(err)
	}
	return hints
}

// usageError marks a mistake in the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// Usagef returns a usage error: the command line is wrong. [Main] exits 2.
func Usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is or wraps a usage error.
func IsUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

// HelpHint returns the hint after a mistake in the command line of prog
// (such as "anshim venue add"): "run 'prog --help' for usage".
func HelpHint(prog string) string {
	return fmt.Sprintf("run '%s --help' for usage", prog)
}

// UsageErrorf returns a usage error of the command prog, as [Usagef] does,
// with the hint of [HelpHint]: the command line is wrong, and prog's --help
// says how to write it.
func UsageErrorf(prog, format string, args ...any) error {
	return WithHint(Usagef(format, args...), "%s", HelpHint(prog))
}

// errHelpShown is returned after help was printed on request.
var errHelpShown = errors.New("help shown")

// Main runs the command line args (without the program name) against the
// tool's commands, prints any error on stderr as "prog: error: ..." with its
// hints, and returns the exit code.
func Main(ctx context.Context, prog, usage string, commands []Command, args []string, stdout, stderr io.Writer) int {
	err := Dispatch(ctx, prog, usage, commands, args, stdout, stderr)
	return Report(stderr, prog, err)
}

// Report prints err on stderr, if not nil, and returns the exit code for it.
func Report(stderr io.Writer, prog string, err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: error: %v\n", prog, err)
	for _, h := range Hints(err) {
		fmt.Fprintf(stderr, "%s: hint: %s\n", prog, h)
	}
	if IsUsage(err) {
		return 2
	}
	return 1
}

// Dispatch runs the command named by args[0]. prog is the full name of the
// command being dispatched, such as "anshim" or "anshim pass", and usage its
// description, printed above the list of commands by "help" and --help.
func Dispatch(ctx context.Context, prog, usage string, commands []Command, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printCommands(stderr, prog, usage, commands)
		return WithHint(Usagef("no command given"), "run '%s help' for the list of commands", prog)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			// "prog help cmd" is "prog cmd --help".
			return Dispatch(ctx, prog, usage, commands, []string{args[1], "--help"}, stdout, stderr)
		}
		printCommands(stdout, prog, usage, commands)
		return errHelpShown
	}
	for _, c := range commands {
		if c.Name == args[0] {
			return c.Run(ctx, args[1:], stdout, stderr)
		}
	}
	return WithHint(Usagef("unknown command %q", args[0]), "run '%s help' for the list of commands", prog)
}

// printCommands prints usage and the command list.
func printCommands(w io.Writer, prog, usage string, commands []Command) {
	fmt.Fprintf(w, "%s\n\nUsage:\n\n\t%s <command> [arguments]\n\nCommands:\n\n", strings.TrimSpace(usage), prog)
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's usage.\n", prog)
}

// FlagSet is a flag.FlagSet with Anshim's conventions: --help and -h print
// the command's usage on stdout, and flags may follow positional arguments.
type FlagSet struct {
	*flag.FlagSet
	usage string
	help  bool
}

// NewFlagSet returns a flag set for the command prog (such as "anshim pass
// issue"). usage should give a synopsis line, a description and examples;
// --help prints it, followed by the flags.
func NewFlagSet(prog, usage string) *FlagSet {
	fs := &FlagSet{FlagSet: flag.NewFlagSet(prog, flag.ContinueOnError), usage: usage}
	fs.SetOutput(io.Discard)
	fs.BoolVar(&fs.help, "help", false, "show this help")
	fs.BoolVar(&fs.help, "h", false, "show this help")
	return fs
}

// ParseArgs parses args, allowing flags after positional arguments (up to a
// "--"), and returns the positional arguments. On --help it prints the usage
// on stdout and returns an error for which [Report] returns 0; other mistakes
// are usage errors.
func (fs *FlagSet) ParseArgs(args []string, stdout io.Writer) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fs.Usagef("%v", err)
		}
		if fs.help {
			fs.PrintUsage(stdout)
			return nil, errHelpShown
		}
		rest := fs.Args()
		// flag stops after a "--", which it drops, or at the first non-flag
		// argument ("-" is one).
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// ParseOnlyFlags parses args as [FlagSet.ParseArgs] does, for a command
// that takes no positional arguments: the first one is a usage error
// ("unexpected argument ...").
func (fs *FlagSet) ParseOnlyFlags(args []string, stdout io.Writer) error {
	rest, err := fs.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fs.Usagef("unexpected argument %q", rest[0])
	}
	return nil
}

// Usagef returns a usage error of the flag set's command with the hint to
// read its --help, as [UsageErrorf] does.
func (fs *FlagSet) Usagef(format string, args ...any) error {
	return UsageErrorf(fs.Name(), format, args...)
}

// Required returns nil if each of the named flags (without dashes) has a
// value other than white space, and otherwise a usage error naming the
// others in the order given ("missing --data, --venue"), with the hint to
// read the command's --help. It panics on a name that is not a flag of fs.
func (fs *FlagSet) Required(names ...string) error {
	var missing []string
	for _, name := range names {
		f := fs.Lookup(name)
		if f == nil {
			panic("cli: Required: no flag --" + name)
		}
		if strings.TrimSpace(f.Value.String()) == "" {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		return fs.Usagef("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// PrintUsage prints the command's usage text and its flags.
func (fs *FlagSet) PrintUsage(w io.Writer) {
	printUsage(w, fs.FlagSet, fs.usage)
}

// printUsage prints a command's usage text and its flags.
func printUsage(w io.Writer, fs *flag.FlagSet, usage string) {
	fmt.Fprintf(w, "%s\n", strings.TrimSpace(usage))
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "help" || f.Name == "h" {
			return
		}
		if first {
			fmt.Fprintf(w, "\nFlags:\n\n")
			first = false
		}
		name, text := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(text, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprintf(w, "\n  --help\n    \tshow this help\n")
}
