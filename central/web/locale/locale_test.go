package locale

import (
	"testing"
)

// Ensure that every catalogue has the reference's keys and no other, no
// empty value, and the same fmt verbs as the reference for each key.
func TestCatalogues(t *testing.T) {
	ref, err := Load(Languages[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) == 0 {
		t.Fatal("empty reference catalogue")
	}
	for _, lang := range Languages {
		c, err := Load(lang)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c {
			if v == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
			r, ok := ref[k]
			if !ok {
				t.Errorf("%s: %q is not in %s.json", lang, k, Languages[0])
				continue
			}
			if verbs(v) != verbs(r) {
				t.Errorf("%s: %q has verbs %q, %s.json %q", lang, k, verbs(v), Languages[0], verbs(r))
			}
		}
		for k := range ref {
			if _, ok := c[k]; !ok {
				t.Errorf("%s: missing %q", lang, k)
			}
		}
	}
}

// Ensure that the printer formats, picks the English singular, falls back
// to Korean for an unknown language and shows a missing key.
func TestPrinter(t *testing.T) {
	for _, tt := range []struct {
		lang, got, want string
	}{
		{"en", NewPrinter("en").N("landing.ledger.entries", 1), "1 entry"},
		{"en", NewPrinter("en").N("landing.ledger.entries", 1024), "1024 entries"},
		{"ko", NewPrinter("ko").N("landing.ledger.entries", 1), "1개"},
		{"xx", NewPrinter("xx").T("layout.signin"), "로그인"},
		{"en", NewPrinter("en").T("no.such.key"), "[no.such.key]"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.lang, tt.got, tt.want)
		}
	}
	if NewPrinter("xx").Lang() != Default {
		t.Errorf("an unknown language's printer is %s, want %s", NewPrinter("xx").Lang(), Default)
	}
}
