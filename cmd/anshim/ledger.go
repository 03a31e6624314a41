package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/mod/sumdb/note"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/province"
)

const ledgerUsage = `anshim ledger audits the central's transparency log: a Merkle tree
(x/mod sumdb/tlog) of commitments to every kiosk batch stored and every
audit event (days destroyed, identities revealed), with checkpoints signed
by the province's ledger key.`

// ledgerCommands is the table of "anshim ledger" subcommands.
func (e *env) ledgerCommands() []cli.Command {
	return []cli.Command{
		{Name: "verify", Summary: "download and verify the whole log, and its consistency with the last audit", Run: e.runLedgerVerify},
		{Name: "prove", Summary: "print and check the receipt of one kiosk record's batch", Run: e.runLedgerProve},
		{Name: "audit", Summary: "check the stored data against the ledger (read-only): missing, extra, altered records, destroyed days", Run: e.runLedgerAudit},
	}
}

// runLedger runs "anshim ledger".
func (e *env) runLedger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, "anshim ledger", ledgerUsage, e.ledgerCommands(), args, stdout, stderr)
}

// verifierFlags are --key and --bundle.
type verifierFlags struct{ key, bundle *string }

func addVerifierFlags(fs *cli.FlagSet) *verifierFlags {
	return &verifierFlags{
		key:    fs.String("key", "", "the ledger's note verifier `key` (name+hash+key)"),
		bundle: fs.String("bundle", "", "the province's public bundle `file` (public.json), instead of --key"),
	}
}

func (f *verifierFlags) verifier() (note.Verifier, error) {
	switch {
	case *f.key != "" && *f.bundle != "":
		return nil, cli.Usagef("give --key or --bundle, not both")
	case *f.key != "":
		v, err := note.NewVerifier(*f.key)
		if err != nil {
			return nil, cli.WithHint(cli.Usagef("--key: %v", err), "give the ledger_verifier of the province's public.json")
		}
		return v, nil
	case *f.bundle != "":
		b, err := province.LoadBundle(*f.bundle)
		if err != nil {
			return nil, cli.WithHint(err, "give the province's public.json, made by 'anshim keygen'")
		}
		return b.NoteVerifier()
	}
	return nil, cli.WithHint(cli.Usagef("--key or --bundle is required"), "give the province's public.json (--bundle) or its ledger_verifier (--key)")
}

const ledgerVerifyUsage = `Usage: anshim ledger verify --central URL (--bundle FILE | --key VKEY) [--state FILE]

Verify downloads the central's whole ledger and checks it: the latest
checkpoint's signature, every leaf's format, and that the leaves make the
signed root. With --state it also checks that the log still holds the tree
of the checkpoint saved there by the previous audit (a log that was
rewritten, or shows you another history, fails), then saves the new
checkpoint.

Examples:

	anshim ledger verify --central http://central:8440 --bundle public.json --state audit.checkpoint`

// runLedgerVerify runs "anshim ledger verify".
func (e *env) runLedgerVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim ledger verify"
	flags := cli.NewFlagSet(prog, ledgerVerifyUsage)
	central := flags.String("central", "http://127.0.0.1:8440", "central server's HTTP API `URL`")
	state := flags.String("state", "", "`file` keeping the checkpoint of the previous audit (made when missing)")
	vf := addVerifierFlags(flags)
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected arguments %q", rest)
	}
	v, err := vf.verifier()
	if err != nil {
		return err
	}
	var prev []byte
	if *state != "" {
		prev, err = os.ReadFile(*state)
		if errors.Is(err, os.ErrNotExist) {
			prev = nil
		} else if err != nil {
			return err
		}
	}
	rep, err := ledger.Verify(ctx, &ledger.Client{URL: *central}, v, prev)
	if errors.Is(err, ledger.ErrFork) {
		return cli.WithHint(fmt.Errorf("LOG REWRITTEN: %w", err),
			"keep %s and this output as evidence and report it to the province's oversight body: the central's log no longer matches what it signed before", *state)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "log %s verified: %d leaves, root %s\n", rep.Checkpoint.Origin, rep.Checkpoint.Size, rep.Checkpoint.Hash)
	types := make([]string, 0, len(rep.Types))
	for t := range rep.Types {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Fprintf(stdout, "  %-6s %d\n", t, rep.Types[t])
	}
	if prev != nil {
		old, _ := ledger.Open(prev, v)
		fmt.Fprintf(stdout, "consistent with the saved checkpoint of %d leaves\n", old.Size)
	}
	if *state != "" {
		tmp := filepath.Join(filepath.Dir(*state), "."+filepath.Base(*state)+".tmp")
		if err := os.WriteFile(tmp, rep.Note, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, *state); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "saved the checkpoint to %s\n", *state)
	}
	return nil
}

const ledgerProveUsage = `Usage: anshim ledger prove --central URL (--bundle FILE | --key VKEY) --device ID --seq N

Prove asks the central for the receipt of the batch that stored a kiosk's
record: the batch's leaf, its index and its inclusion proof in a signed
checkpoint. It checks the receipt offline and prints it (JSON), as a kiosk
keeps it.

Examples:

	anshim ledger prove --central http://central:8440 --bundle public.json --device k-0001 --seq 42`

// runLedgerProve runs "anshim ledger prove".
func (e *env) runLedgerProve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim ledger prove"
	flags := cli.NewFlagSet(prog, ledgerProveUsage)
	central := flags.String("central", "http://127.0.0.1:8440", "central server's HTTP API `URL`")
	device := flags.String("device", "", "kiosk device `id` (required)")
	seq := flags.Uint64("seq", 0, "the record's sequence `number` (required)")
	vf := addVerifierFlags(flags)
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected arguments %q", rest)
	}
	if *device == "" || *seq == 0 {
		return flags.Usagef("--device and --seq are required")
	}
	v, err := vf.verifier()
	if err != nil {
		return err
	}
	rc, err := (&ledger.Client{URL: *central}).Receipt(ctx, *device, *seq)
	if err != nil {
		return err
	}
	c, leaf, err := rc.Verify(v)
	if err != nil {
		return cli.WithHint(err, "the central gave a receipt that does not verify: keep it as evidence")
	}
	b, ok := leaf.(*ledger.Batch)
	if !ok || b.Device != *device || *seq < b.First || *seq > b.Last {
		return fmt.Errorf("the receipt's leaf %d is not of a batch of %s holding record %d", rc.Index, *device, *seq)
	}
	fmt.Fprintf(stdout, "leaf %d (batch %s %d-%d) is in the checkpoint of %d leaves, root %s\n",
		rc.Index, b.Device, b.First, b.Last, c.Size, c.Hash)
	fmt.Fprintf(stdout, "%s", rc.Leaf)
	fmt.Fprintf(stdout, "proof:\n")
	for _, h := range rc.Proof {
		fmt.Fprintf(stdout, "  %s\n", h)
	}
	fmt.Fprintf(stdout, "checkpoint:\n%s", rc.Checkpoint)
	return nil
}
