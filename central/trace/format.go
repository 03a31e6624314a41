package trace

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/anshim/anshim/central/daykeys"
)

// csvHeader are the columns of WriteCSV.
var csvHeader = []string{"ref", "degree", "venue", "exposed", "overlap_minutes", "stay_start", "stay_end",
	"exit_scanned", "via", "path", "flagged", "name", "phone"}

// kst formats an instant in KST.
func kst(t time.Time) string { return t.In(daykeys.KST).Format("2006-01-02T15:04:05-07:00") }

// path formats a contact's path as "case>C1>C4".
func path(c Contact) string {
	refs := make([]string, len(c.Path))
	for i, h := range c.Path {
		refs[i] = h.Ref
	}
	return strings.Join(refs, ">")
}

// row returns a contact's cells, in the order of csvHeader.
func row(c Contact) []string {
	return []string{c.Ref, strconv.Itoa(c.Degree), c.Venue, kst(c.Exposed), strconv.Itoa(c.OverlapMinutes),
		kst(c.Stay.Start), kst(c.Stay.End), strconv.FormatBool(c.Stay.Exit), c.Via, path(c),
		strconv.FormatBool(c.Flagged), c.Name, c.Phone}
}

// NeutralizeCell defuses a CSV cell that a spreadsheet would run as a
// formula: one starting with =, +, -, @, a tab or a carriage return gets a
// leading apostrophe (OWASP's advice; the Luca app's CSV export failed
// here). The start is looked for past any leading invisible characters
// (format characters such as U+200B zero-width space, U+200C/D, U+2060,
// U+FEFF and the bidi controls U+200E/F, U+202A–E, U+2066–9) and
// whitespace other than tab and CR, which a spreadsheet may skip or the
// reader not see.
func NeutralizeCell(s string) string {
	rest := strings.TrimLeftFunc(s, invisible)
	if rest != "" && strings.ContainsRune("=+-@\t\r", rune(rest[0])) {
		return "'" + s
	}
	return s
}

// invisible reports whether r is a format character (Unicode Cf: zero-width
// and bidi controls, the BOM, the soft hyphen) or whitespace other than
// tab and CR.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) && r != '\t' && r != '\r'
}

// WriteCSV writes the contacts as CSV (RFC 4180, a header line, times in
// KST), every cell neutralised. A cell holding a comma, a semicolon (the
// separator of Excel in Korean and European locales), a quote, a line
// break or leading whitespace is quoted, so that it stays one cell
// whichever separator the spreadsheet assumes.
func WriteCSV(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	writeRecord(bw, csvHeader)
	for _, c := range res.Contacts {
		cells := row(c)
		for i := range cells {
			cells[i] = NeutralizeCell(cells[i])
		}
		writeRecord(bw, cells)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// writeRecord writes one CSV line of cells, quoting those that need it
// (see WriteCSV) and doubling their quotes. Errors stick in w.
func writeRecord(w *bufio.Writer, cells []string) {
	for i, c := range cells {
		if i > 0 {
			w.WriteByte(',')
		}
		r, _ := utf8.DecodeRuneInString(c)
		if c == "" || !strings.ContainsAny(c, ",;\"\r\n") && !unicode.IsSpace(r) {
			w.WriteString(c)
			continue
		}
		w.WriteByte('"')
		w.WriteString(strings.ReplaceAll(c, `"`, `""`))
		w.WriteByte('"')
	}
	w.WriteByte('\n')
}

// WriteTable writes the result for a terminal: the window, the case's
// stays and the contacts, flagged ones marked with "!".
func WriteTable(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "window\t%s .. %s (onward to %s), degree %d\n", kst(res.From), kst(res.To), kst(res.Until), res.Degree)
	fmt.Fprintf(tw, "case stays\t%d\n", len(res.Case))
	for _, s := range res.Case {
		fmt.Fprintf(tw, "\t%s\t%s .. %s%s\n", s.Venue, kst(s.Start), kst(s.End), mark(s.Exit, s.Flagged))
	}
	fmt.Fprintf(tw, "contacts\t%d\n\n", len(res.Contacts))
	fmt.Fprintln(tw, "REF\tDEG\tVENUE\tEXPOSED\tMIN\tSTAY\tVIA\tPATH\tNAME\tPHONE")
	for _, c := range res.Contacts {
		ref := c.Ref
		if c.Flagged {
			ref += " !"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s .. %s%s\t%s\t%s\t%s\t%s\n", ref, c.Degree, c.Venue, kst(c.Exposed),
			c.OverlapMinutes, c.Stay.Start.In(daykeys.KST).Format("15:04"), c.Stay.End.In(daykeys.KST).Format("15:04"),
			mark(c.Stay.Exit, false), c.Via, path(c), c.Name, c.Phone)
	}
	if len(res.Contacts) > 0 {
		fmt.Fprintln(tw, "\n(x: scanned out; otherwise the venue's default stay. !: a flagged check-in, see the JSON)")
	}
	return tw.Flush()
}

func mark(exit, flagged bool) string {
	s := ""
	if exit {
		s += " x"
	}
	if flagged {
		s += " !"
	}
	return s
}
