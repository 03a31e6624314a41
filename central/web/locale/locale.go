// Package locale holds the web's message catalogues, one JSON file per
// language (ko.json, the reference, and en.json), and a Printer that
// looks messages up by key.
//
// # Catalogues
//
// A catalogue maps a key ("landing.title") to a message, a format string
// of package fmt when the message takes arguments ("%d entries"). Every
// user-facing string of central/web is in both catalogues; a test checks
// that they have the same keys, that no value is empty and that the
// verbs agree.
//
// # Plurals
//
// Korean has no plural forms. An English message that needs one has a
// second key with the suffix ".one" used when the count is 1:
// Printer.N("ledger.entries", n) looks for "ledger.entries.one" when n is
// 1 and falls back to "ledger.entries".
package locale

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Languages are the catalogues' languages, the reference first.
var Languages = []string{"ko", "en"}

// Default is the language of a visitor who chose none.
const Default = "ko"

//go:embed ko.json en.json
var files embed.FS

var catalogues = mustLoad()

func mustLoad() map[string]map[string]string {
	out := make(map[string]map[string]string)
	for _, lang := range Languages {
		c, err := Load(lang)
		if err != nil {
			panic(err)
		}
		out[lang] = c
	}
	return out
}

// Load reads the embedded catalogue of lang.
func Load(lang string) (map[string]string, error) {
	data, err := files.ReadFile(lang + ".json")
	if err != nil {
		return nil, fmt.Errorf("locale %s: %w", lang, err)
	}
	var c map[string]string
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("locale %s: %w", lang, err)
	}
	return c, nil
}

// Supported reports whether lang has a catalogue.
func Supported(lang string) bool { return slices.Contains(Languages, lang) }

// Printer prints the messages of one language.
type Printer struct {
	lang string
	c    map[string]string
}

// NewPrinter returns the printer of lang, or of Default when lang has no
// catalogue.
func NewPrinter(lang string) *Printer {
	if !Supported(lang) {
		lang = Default
	}
	return &Printer{lang: lang, c: catalogues[lang]}
}

// Lang returns the printer's language ("ko", "en").
func (p *Printer) Lang() string { return p.lang }

// T returns the message of key, formatted with args when there are any.
// A key missing from the catalogue prints as itself in brackets, so that
// it shows on the page (and the catalogue test names it first).
func (p *Printer) T(key string, args ...any) string {
	m, ok := p.c[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// N is T for a message about n things: the key with ".one" when n is 1
// and the catalogue has it. n is the message's first argument.
func (p *Printer) N(key string, n int, args ...any) string {
	if _, ok := p.c[key+".one"]; ok && n == 1 {
		key += ".one"
	}
	return p.T(key, append([]any{n}, args...)...)
}

// Keys returns the keys of lang's catalogue in order.
func Keys(lang string) []string {
	var keys []string
	for k := range catalogues[lang] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// verbs returns the fmt verbs of a message in order, for the test that
// the catalogues agree.
func verbs(m string) string {
	var b strings.Builder
	for i := 0; i < len(m); i++ {
		if m[i] != '%' || i+1 == len(m) {
			continue
		}
		i++
		if m[i] != '%' {
			b.WriteByte(m[i])
		}
	}
	return b.String()
}
