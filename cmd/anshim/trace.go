package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/trace"
	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/internal/text"
)

const traceUsage = `Usage: anshim trace --central URL --token-file FILE --phone NUMBER --onset DATE
        --case-ref REF [--tested DATE --asymptomatic] [--isolation DATE|TIME]
        [--degree N] [--format table|json|csv] [--reveal --reason TEXT]

Trace finds the contacts of a case: everyone whose stay at a venue
overlapped the case's from two days before symptom onset (or before the
test date, with --asymptomatic) to isolation (default: now), and, up to
--degree (1 to 4, default 2), the contacts of contacts along paths that
respect time. Dates are KST days, YYYY-MM-DD.

Every trace needs the case's --case-ref: the central records every trace
in its audit trail and ledger (who, when, the case reference, how many
contacts). Contacts are named C1, C2, … within the trace. Their names and
mobile numbers are shown only with --reveal, which also needs a --reason,
recorded with it. The case reference needs at least 2 letters or digits,
the reason at least 4; invisible characters (such as a zero-width space)
and line breaks are refused. CSV output is safe to open in a spreadsheet
(cells that would run as formulas start with an apostrophe). Flagged
check-ins (e.g. a poster scanned far from its venue) are kept and marked
"!".

The token is your own, from 'anshim token add' (the audit trail names
you), or the central's DATA/investigator.token (named "investigator").

Examples:

	anshim trace --token-file /var/lib/anshim-central/investigator.token \
		--phone 010-1234-5678 --onset 2026-11-12 --case-ref JJ-2026-0117
	anshim trace --token-file investigator.token --phone 010-1234-5678 \
		--tested 2026-11-12 --asymptomatic --degree 1 --format csv \
		--reveal --reason 'close contacts for testing' --case-ref JJ-2026-0117 > contacts.csv`

// traceAnswer is the central's answer to POST /v1/traces.
type traceAnswer struct {
	ID       string `json:"id"`
	CaseRef  string `json:"case_ref"`
	Revealed int    `json:"revealed"`
	trace.Result
}

// runTrace runs "anshim trace".
func (e *env) runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim trace"
	flags := cli.NewFlagSet(prog, traceUsage)
	c := &centralFlags{
		url:       flags.String("central", "http://127.0.0.1:8440", "central server's HTTP API `URL`"),
		tokenFile: flags.String("token-file", "/var/lib/anshim-central/investigator.token", "`file` with the investigator (or admin) token"),
		tokenFlag: "token-file",
	}
	phone := flags.String("phone", "", "the case's mobile `number`")
	pseudonym := flags.String("pseudonym", "", "the case's pseudonym, 32 `hex` digits, instead of --phone")
	onset := flags.String("onset", "", "`date` of symptom onset, YYYY-MM-DD (KST)")
	tested := flags.String("tested", "", "`date` the sample was taken, YYYY-MM-DD (KST)")
	asymptomatic := flags.Bool("asymptomatic", false, "the case has no symptoms: the window starts 2 days before --tested")
	isolation := flags.String("isolation", "", "end of the case's window: a `date` (its end) or an RFC 3339 time (default: now)")
	degree := flags.Int("degree", trace.DefaultDegree, "how many steps of contact to follow, 1 to 4")
	format := flags.String("format", "table", "output `format`: table, json or csv")
	reveal := flags.Bool("reveal", false, "show the contacts' names and mobile numbers (audited; needs --reason and --case-ref)")
	reason := flags.String("reason", "", "why the identities are needed (with --reveal)")
	caseRef := flags.String("case-ref", "", "the case's `reference` in the investigation (required)")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	checkDay := func(name, v string) error {
		if v == "" {
			return nil
		}
		if _, err := daykeys.ParseDay(v); err != nil {
			return cli.WithHint(cli.Usagef("--%s: %v", name, err), "give the date as YYYY-MM-DD, such as 2026-11-12")
		}
		return nil
	}
	switch {
	case len(rest) > 0:
		return flags.Usagef("unexpected argument %q", rest[0])
	case (*phone == "") == (*pseudonym == ""):
		return flags.Usagef("give --phone or --pseudonym, one of them")
	case *asymptomatic && *tested == "":
		return cli.WithHint(cli.Usagef("--asymptomatic needs --tested"), "give the date the sample was taken")
	case !*asymptomatic && *onset == "":
		return cli.WithHint(cli.Usagef("--onset is required"), "for a case without symptoms give --tested DATE --asymptomatic")
	case *degree < 1 || *degree > trace.MaxDegree:
		return flags.Usagef("--degree %d: want 1 to %d", *degree, trace.MaxDegree)
	case *format != "table" && *format != "json" && *format != "csv":
		return flags.Usagef("--format %q: want table, json or csv", *format)
	case strings.TrimSpace(*caseRef) == "":
		return cli.WithHint(cli.Usagef("--case-ref is required"), "every trace is recorded in the audit trail with its case reference")
	case *reveal && strings.TrimSpace(*reason) == "":
		return cli.WithHint(cli.Usagef("--reveal needs --reason"), "every reveal is recorded with its reason and case reference")
	}
	if err := text.Check(strings.TrimSpace(*caseRef), central.MinCaseRefAlnum); err != nil {
		return cli.WithHint(cli.Usagef("--case-ref: %v", err), "give the case reference as the investigation writes it, such as JJ-2026-0117")
	}
	if *reason != "" {
		if err := text.Check(strings.TrimSpace(*reason), central.MinReasonAlnum); err != nil {
			return cli.WithHint(cli.Usagef("--reason: %v", err), "say in words why (at least %d letters or digits), such as 'close contacts for testing'", central.MinReasonAlnum)
		}
	}
	if err := checkDay("onset", *onset); err != nil {
		return err
	}
	if err := checkDay("tested", *tested); err != nil {
		return err
	}
	req := map[string]any{"degree": *degree}
	for k, v := range map[string]string{"phone": *phone, "pseudonym": *pseudonym, "onset": *onset, "tested": *tested,
		"isolation": *isolation, "case_ref": *caseRef, "reason": *reason} {
		if v != "" {
			req[k] = v
		}
	}
	if *asymptomatic {
		req["asymptomatic"] = true
	}
	if *reveal {
		req["reveal"] = true
	}
	var raw json.RawMessage
	if err := c.call(ctx, "POST", "/v1/traces", req, &raw); err != nil {
		return traceHint(err, c, *phone)
	}
	var ans traceAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("the central's answer: %w", err)
	}
	switch *format {
	case "json":
		_, err = stdout.Write(append(raw, '\n'))
	case "csv":
		err = trace.WriteCSV(stdout, &ans.Result)
	default:
		fmt.Fprintf(stdout, "trace\t%s\n", ans.ID)
		err = trace.WriteTable(stdout, &ans.Result)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "anshim: trace %s: %d contacts", ans.ID, len(ans.Contacts))
	if *reveal {
		fmt.Fprintf(stderr, ", %d identities revealed", ans.Revealed)
	}
	fmt.Fprintf(stderr, " (recorded in the audit trail under %s)", strings.TrimSpace(*caseRef))
	fmt.Fprintln(stderr)
	return nil
}

// traceHint adds a hint to the central's refusal of a case's phone number:
// a number no visitor is registered with, or not a mobile number.
func traceHint(err error, c *centralFlags, phone string) error {
	var ae *apiError
	if phone == "" || !errors.As(err, &ae) {
		return err
	}
	switch {
	case ae.status == http.StatusNotFound:
		admin := &centralFlags{url: c.url, tokenFile: new(filepath.Join(filepath.Dir(*c.tokenFile), central.AdminTokenFile)), tokenFlag: "admin-token-file"}
		return cli.WithHint(err, "check --phone; a visitor is registered (by an administrator) with 'anshim person add %s --name NAME --phone %s'",
			admin.args(), shellQuote(phone))
	case ae.status == http.StatusBadRequest && strings.Contains(ae.msg, "phone: "):
		return cli.WithHint(err, "give a mobile number, such as 010-1234-5678 or +82 10-1234-5678 (from abroad: +86 138 0013 8000)")
	}
	return err
}
