// Command benchreport runs the project's benchmarks, one section at a
// time, and writes their tables into docs/benchmarks.md between the
// sections' markers. `make bench-report` and `make bench-province` call it.
//
// Usage:
//
//	go run ./internal/benchreport/cmd/benchreport [-doc docs/benchmarks.md] [-out bin/bench] [-render] [-list] [section ...]
//
// Without section names it runs every section but the separate ones (the
// province: hours). Each section's raw output is kept in -out/NAME.txt;
// -render rewrites the document from those files without running anything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/anshim/anshim/internal/atomicfile"
	"github.com/anshim/anshim/internal/benchreport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchreport: error: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	doc := fs.String("doc", "docs/benchmarks.md", "the document whose generated sections to write")
	outDir := fs.String("out", "bin/bench", "where each section's raw `go test` output is kept (NAME.txt)")
	render := fs.Bool("render", false, "do not run: rewrite the document from the outputs already in -out")
	list := fs.Bool("list", false, "list the sections and their commands, and exit")
	goBin := fs.String("go", "go", "the go command")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchreport [flags] [section ...]\n\n"+
			"Runs the benchmarks of each section (all but the separate ones when none is named),\n"+
			"one `go test -p 1` at a time, and writes their tables into the document between\n"+
			"<!-- bench:NAME begin --> and <!-- bench:NAME end -->.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var secs []benchreport.Section
	for _, n := range fs.Args() {
		s, ok := benchreport.Lookup(n)
		if !ok {
			return fmt.Errorf("no section %q (benchreport -list shows them)", n)
		}
		secs = append(secs, s)
	}
	if len(secs) == 0 {
		for _, s := range benchreport.Sections {
			if !s.Separate || *list {
				secs = append(secs, s)
			}
		}
	}
	if *list {
		for _, s := range secs {
			fmt.Fprintf(stdout, "%-13s %s\n", s.Name, s.Command())
		}
		return nil
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	for _, s := range secs {
		path := filepath.Join(*outDir, s.Name+".txt")
		if !*render {
			if err := runSection(ctx, s, *goBin, path, stdout); err != nil {
				if ctx.Err() != nil {
					return err
				}
				// The section's failures are in its output and
				// go into the document: carry on with the others.
				fmt.Fprintf(stderr, "benchreport: %v\n", err)
			}
		}
		if err := write(*doc, s, path, stdout); err != nil {
			return err
		}
	}
	return nil
}

// runSection runs s, its output going to path and to stdout.
func runSection(ctx context.Context, s benchreport.Section, goBin, path string, stdout io.Writer) error {
	m, err := benchreport.ReadMachine("/proc", time.Now())
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("section %s: %w", s.Name, err)
	}
	defer f.Close()
	fmt.Fprintf(stdout, "== %s: %s\n", s.Name, s.Command())
	err = s.Run(ctx, goBin, m, io.MultiWriter(f, stdout))
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("section %s: %w", s.Name, cerr)
	}
	return err
}

// write renders s from its output file into the document.
func write(doc string, s benchreport.Section, path string, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("section %s: %w (run it first: benchreport %s)", s.Name, err, s.Name)
	}
	out, err := benchreport.ParseOutput(f, path)
	f.Close()
	if err != nil {
		return err
	}
	text, err := os.ReadFile(doc)
	if err != nil {
		return fmt.Errorf("document: %w", err)
	}
	block := benchreport.Render(s, out)
	next, err := benchreport.Replace(text, s.Name, block)
	if err != nil {
		return fmt.Errorf("%s: %w", doc, err)
	}
	if err := atomicfile.Write(doc, next, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", doc, err)
	}
	fmt.Fprintf(stdout, "== %s: written into %s\n", s.Name, doc)
	return nil
}
