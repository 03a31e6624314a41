package trace

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// Ensure that cells a spreadsheet would run as formulas get a leading
// apostrophe, and only those.
func TestNeutralizeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+821012345678":            "'+821012345678",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tcmd":                    "'\tcmd",
		"\r=1":                     "'\r=1",
		"홍길동":                      "홍길동",
		"C1":                       "C1",
		"a=b":                      "a=b",
		"":                         "",
		"'=already":                "'=already",
	} {
		if got := NeutralizeCell(in); got != want {
			t.Errorf("NeutralizeCell(%q) = %q, want %q", in, got, want)
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
