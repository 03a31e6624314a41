package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/anshim/anshim/central/audit"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/internal/cli"
)

const ledgerAuditUsage = `Usage: anshim ledger audit --store bolt:PATH|postgres://auditor@HOST/DB (--bundle FILE | --key VKEY | --keys-free) [--format text|json]

Audit checks the central's stored data against its ledger, read-only: each
batch leaf's records are stored as the leaf committed to them (none
missing, none altered), every stored check-in is covered by a leaf (none
extra), every destroyed day is gone and matches its day-destroyed leaf,
and the leaves make the latest signed checkpoint. Each finding names the
device, sequence number, day and leaf. Exit status 0: clean; 1: findings
(or the store could not be read).

The store is opened read-only:
  bolt:PATH     bbolt in read-only mode. A running central locks its file:
                audit a copy (a backup, or a copy taken with the central
                stopped), never the live file.
  postgres://…  one read-only snapshot, as a role with SELECT only
                (anshim_auditor, see docs/ledger.md); the central may run.

--keys-free audits without the province's bundle: the leaves are then not
checked against a signature (say so in your report).

Examples:

	anshim ledger audit --store bolt:/backup/central.db --bundle public.json
	anshim ledger audit --store postgres://auditor@db.jeju/anshim --bundle public.json --format json`

// runLedgerAudit runs "anshim ledger audit".
func (e *env) runLedgerAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim ledger audit"
	flags := cli.NewFlagSet(prog, ledgerAuditUsage)
	where := flags.String("store", "", "the store to audit: bolt:`PATH` or a postgres:// URL (required)")
	format := flags.String("format", "text", "output `format`: text or json")
	keysFree := flags.Bool("keys-free", false, "audit without --bundle/--key: leaves not checked against a signed checkpoint")
	every := flags.Int64("progress-every", 100_000, "print a progress line every `N` leaves or records (and every 5 s)")
	vf := addVerifierFlags(flags)
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected arguments %q", rest)
	}
	if *format != "text" && *format != "json" {
		return cli.Usagef("--format %q: want text or json", *format)
	}
	if *where == "" {
		return cli.WithHint(cli.Usagef("--store is required"), "give bolt:PATH (a copy of the central's store file) or postgres://auditor@HOST/DB")
	}
	var v note.Verifier
	if *keysFree {
		if *vf.key != "" || *vf.bundle != "" {
			return cli.Usagef("give --keys-free or --bundle/--key, not both")
		}
	} else if v, err = vf.verifier(); err != nil {
		return cli.WithHint(err, "or give --keys-free to audit without checking the signed checkpoint")
	}
	view, err := openAuditView(ctx, *where)
	if err != nil {
		return err
	}
	defer view.Close()
	opts := &audit.Options{Verifier: v, ProgressEvery: *every, Now: e.now,
		Progress: func(p audit.Progress) {
			if p.Total > 0 {
				fmt.Fprintf(stderr, "anshim: audit: %s %d/%d (%s)\n", p.Phase, p.Done, p.Total, p.Elapsed.Round(time.Second))
			} else {
				fmt.Fprintf(stderr, "anshim: audit: %s %d (%s)\n", p.Phase, p.Done, p.Elapsed.Round(time.Second))
			}
		}}
	rep, err := audit.Run(ctx, view, opts)
	if err != nil {
		return cli.WithHint(err, "the audit did not finish: check the store's address and the role's SELECT grants (docs/ledger.md), then run it again")
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		for _, f := range rep.Findings {
			fmt.Fprintln(stdout, f)
		}
		for _, f := range rep.Warnings {
			fmt.Fprintln(stdout, "warning: "+f.String())
		}
		fmt.Fprintln(stdout, summary(rep))
	}
	if !rep.OK() {
		return cli.WithHint(fmt.Errorf("data audit FAILED: %d findings", len(rep.Findings)),
			"keep this output and the store copy as evidence and report them to the province's oversight body; each finding names the device, sequence number, day and ledger leaf")
	}
	return nil
}

// summary is the last line of a text report.
func summary(rep *audit.Report) string {
	signed := fmt.Sprintf("signed checkpoint of %d leaves verified", rep.Signed)
	switch rep.Signed {
	case -1:
		signed = "keys-free: no signed checkpoint checked"
	case 0:
		signed = "no signed checkpoint"
	}
	result := "OK"
	if !rep.OK() {
		result = fmt.Sprintf("FAILED, %d findings", len(rep.Findings))
	}
	return fmt.Sprintf("data audit %s: %d leaves checked (%d batches, %d without stored lines, %d events; %s), %d records checked on %d devices, %d live days, %d destroyed days, %d warnings",
		result, rep.Leaves, rep.BatchLeaves, rep.OldLeaves, rep.EventLeaves, signed, rep.Records, rep.Devices, len(rep.LiveDays), len(rep.Destroyed), len(rep.Warnings))
}

// openAuditView opens the store that where names, read-only.
func openAuditView(ctx context.Context, where string) (store.AuditView, error) {
	switch {
	case strings.HasPrefix(where, "postgres://"), strings.HasPrefix(where, "postgresql://"):
		v, err := pgstore.OpenAuditView(ctx, where)
		if err != nil {
			return nil, cli.WithHint(err, "connect as a login granted anshim_auditor (SELECT only; docs/ledger.md, 'The data audit')")
		}
		return v, nil
	case strings.HasPrefix(where, "bolt:"):
		v, err := boltstore.OpenAuditView(strings.TrimPrefix(where, "bolt:"), 2*time.Second)
		if errors.Is(err, boltstore.ErrLocked) {
			return nil, cli.WithHint(err, "a running central holds this file: audit a copy (a backup, or copy the file while the central is stopped)")
		}
		if err != nil {
			return nil, cli.WithHint(err, "give the path of a copy of the central's store file (DATA/central.db)")
		}
		return v, nil
	}
	return nil, cli.WithHint(cli.Usagef("--store %q: want bolt:PATH or postgres://…", where), "e.g. --store bolt:/backup/central.db")
}
