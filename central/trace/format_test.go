package trace

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// Ensure that cells a spreadsheet would run as formulas get a leading
// apostrophe, also behind leading invisible characters and whitespace, and
// only those.
func TestNeutralizeCell(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"equals", "=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"plus", "+821012345678", "'+821012345678"},
		{"minus", "-2+3", "'-2+3"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\tcmd", "'\tcmd"},
		{"CR", "\r=1", "'\r=1"},
		{"zero-width space", "\u200b=1+1", "'\u200b=1+1"},
		{"ZWNJ", "\u200c+1", "'\u200c+1"},
		{"ZWJ", "\u200d-1", "'\u200d-1"},
		{"word joiner", "\u2060@A1", "'\u2060@A1"},
		{"BOM", "\ufeff=cmd", "'\ufeff=cmd"},
		{"LRM", "\u200e=1", "'\u200e=1"},
		{"RLM", "\u200f=1", "'\u200f=1"},
		{"LRE", "\u202a=1", "'\u202a=1"},
		{"RLO", "\u202e=1", "'\u202e=1"},
		{"LRI", "\u2066=1", "'\u2066=1"},
		{"PDI", "\u2069=1", "'\u2069=1"},
		{"spaces", "  =1", "'  =1"},
		{"NBSP", "\u00a0=1", "'\u00a0=1"},
		{"ideographic space", "\u3000=1", "'\u3000=1"},
		{"newline", "\n=1", "'\n=1"},
		{"mixed", "\u200b \ufeff\u202a\t1", "'\u200b \ufeff\u202a\t1"},
		{"space then tab", " \tcmd", "' \tcmd"},
		{"Korean", "홍길동", "홍길동"},
		{"plain", "C1", "C1"},
		{"equals inside", "a=b", "a=b"},
		{"invisible then text", "\u200b홍길동", "\u200b홍길동"},
		{"leading space then text", "  C1", "  C1"},
		{"only invisible", "\u200b\ufeff", "\u200b\ufeff"},
		{"empty", "", ""},
		{"already", "'=already", "'=already"},
		{"full-width equals", "＝1", "＝1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeutralizeCell(tt.in); got != tt.want {
				t.Errorf("NeutralizeCell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Ensure that WriteCSV quotes the cells holding a separator, comma or
// semicolon, a quote, a line break or leading whitespace, so that a reader
// splitting on either separator sees the same cells.
func TestWriteCSV_Quoting(t *testing.T) {
	t0 := at(11, 10, 0)
	venues := []string{"카페;한라", "a,b", `say "hi"`, "two\nlines", " lead", "plain", "=1;2"}
	res := &Result{}
	for i, v := range venues {
		res.Contacts = append(res.Contacts, Contact{Ref: "C" + string(rune('1'+i)), Degree: 1, Venue: v, Exposed: t0,
			Stay: Stay{Start: t0, End: t0.Add(time.Hour)}, Via: CaseRef, Path: []Hop{{Ref: CaseRef}, {Ref: "C1"}}})
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, res); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.SplitAfter(b.String(), "\n")[1:] {
		if strings.Contains(line, "카페;한라") && !strings.Contains(line, `,"카페;한라",`) {
			t.Errorf("semicolon cell not quoted: %q", line)
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"카페;한라", "a,b", `say "hi"`, "two\nlines", " lead", "plain", "'=1;2"}
	if len(rows) != len(venues)+1 {
		t.Fatalf("%d rows, want %d: %q", len(rows), len(venues)+1, rows)
	}
	for i, w := range want {
		if got := rows[i+1][2]; got != w {
			t.Errorf("row %d venue = %q, want %q", i+1, got, w)
		}
	}
	// A reader splitting on semicolons (Excel's separator in ko-KR), whose
	// quotes open and close anywhere in a line as Excel's do, finds no
	// separator outside quotes: each line stays one cell.
	for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		quoted := false
		for _, r := range line {
			switch {
			case r == '"':
				quoted = !quoted
			case r == ';' && !quoted:
				t.Errorf("line %d: a semicolon outside quotes: %q", i, line)
			}
		}
	}
}

// Ensure that WriteCSV neutralises every cell, names and venues included,
// and stays valid CSV.
func TestWriteCSV_FormulaInjection(t *testing.T) {
	t0 := at(11, 10, 0)
	res := &Result{Contacts: []Contact{{
		Ref: "C1", Degree: 1, Venue: "=cmd|' /C calc'!A0", Exposed: t0, OverlapMinutes: 30,
		Stay: Stay{Start: t0, End: t0.Add(time.Hour)}, Via: CaseRef,
		Path: []Hop{{Ref: CaseRef}, {Ref: "C1"}},
		Name: "@SUM(1+1)*cmd", Phone: "+821012345678",
	}}}
	var b bytes.Buffer
	if err := WriteCSV(&b, res); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("rows = %q", rows)
	}
	for _, cell := range rows[1] {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			t.Errorf("cell %q starts a formula", cell)
		}
	}
	r := rows[1]
	if r[2] != "'=cmd|' /C calc'!A0" || r[11] != "'@SUM(1+1)*cmd" || r[12] != "'+821012345678" || r[9] != "case>C1" || r[3] != "2026-11-11T10:00:00+09:00" {
		t.Errorf("row = %q", r)
	}
}
