package text

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// checkTests are the test vectors of Check; FuzzCheck starts from them.
var checkTests = []struct {
	name string
	s    string
	min  int
	err  string // "" for none; otherwise a substring of the error
}{
	{"reason", "close contact of a confirmed case", 2, ""},
	{"korean reason", "역학조사 접촉자 확인", 2, ""},
	{"case ref", "JJ-2026-0117", 2, ""},
	{"venue name", "Cafe Halla (한라) ☕", 1, ""},
	{"address", "제주특별자치도 제주시 중앙로 1", 1, ""},
	{"one letter", "x", 1, ""},
	{"digits count", "42", 2, ""},
	{"ideographic and no-break spaces", "a\u3000b\u00a0c", 2, ""},
	{"accents and marks", "Zoë Cafe\u0301", 2, ""},
	{"encoded U+FFFD", "ab\uFFFD", 2, ""},
	{"empty", "", 1, "no letter or digit"},
	{"empty min 0", "", 0, ""},
	{"spaces and punctuation", " -- ... ", 2, "0 letters or digits, want at least 2"},
	{"one letter for two", "x!", 2, "1 letters or digits, want at least 2"},
	{"zero-width space alone", "\u200b", 2, "an invisible character (U+200B) at byte 0"},
	{"zero-width space inside", "ab\u200bcd", 2, "an invisible character (U+200B) at byte 2"},
	{"zero-width non-joiner", "ab\u200c", 1, "U+200C"},
	{"zero-width joiner", "ab\u200d", 1, "U+200D"},
	{"left-to-right mark", "ab\u200e", 1, "U+200E"},
	{"right-to-left mark", "ab\u200f", 1, "U+200F"},
	{"word joiner", "ab\u2060", 1, "U+2060"},
	{"invisible plus", "ab\u2064", 1, "U+2064"},
	{"byte-order mark", "\ufeffab", 1, "an invisible character (U+FEFF) at byte 0"},
	{"LRE", "ab\u202a", 1, "U+202A"},
	{"RLO in a venue name", "Cafe \u202eallaH", 1, "an invisible character (U+202E) at byte 5"},
	{"LRI", "ab\u2066", 1, "U+2066"},
	{"PDI", "ab\u2069", 1, "U+2069"},
	{"soft hyphen", "ab\u00ad", 1, "U+00AD"},
	{"tag character", "ab\U000E0041", 1, "U+E0041"},
	{"Hangul filler", "\u3164\u3164", 2, "an invisible character (U+3164)"},
	{"Hangul choseong filler", "a\u115f", 1, "U+115F"},
	{"halfwidth Hangul filler", "a\uffa0", 1, "U+FFA0"},
	{"braille blank", "ab\u2800", 1, "U+2800"},
	{"combining grapheme joiner", "a\u034fb", 1, "U+034F"},
	{"newline", "ab\ncd", 1, "a line break (U+000A) at byte 2"},
	{"carriage return", "ab\r", 1, "a line break (U+000D)"},
	{"tab", "a\tb", 1, "a control character (U+0009) at byte 1"},
	{"NUL", "a\x00b", 1, "a control character (U+0000)"},
	{"DEL", "a\x7fb", 1, "U+007F"},
	{"C1 control", "a\u0085b", 1, "U+0085"},
	{"line separator", "a\u2028b", 1, "a line break (U+2028)"},
	{"paragraph separator", "a\u2029b", 1, "U+2029"},
	{"private use", "a\ue000b", 1, "a private or non-character (U+E000)"},
	{"noncharacter", "a\ufffeb", 1, "U+FFFE"},
	{"noncharacter FDD0", "a\ufdd0b", 1, "U+FDD0"},
	{"not UTF-8", "ab\xffcd", 1, "not UTF-8 at byte 2"},
	{"truncated UTF-8", "ab\xea\xb0", 1, "not UTF-8 at byte 2"},
}

// Ensure that Check accepts readable text and refuses control, invisible
// and private characters, bad UTF-8 and too few letters or digits, naming
// the character by code point and offset.
func TestCheck(t *testing.T) {
	for _, tt := range checkTests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.s, tt.min)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Check(%+q, %d) = %v, want nil", tt.s, tt.min, err)
			case tt.err != "" && err == nil:
				t.Fatalf("Check(%+q, %d) = nil, want an error with %q", tt.s, tt.min, tt.err)
			case tt.err != "" && !strings.Contains(err.Error(), tt.err):
				t.Fatalf("Check(%+q, %d) = %q, want %q in it", tt.s, tt.min, err, tt.err)
			}
		})
	}
}

// Ensure that every character the issue names is refused, alone and
// between letters.
func TestCheck_Invisible(t *testing.T) {
	var rs []rune
	for _, rg := range [][2]rune{{0x200B, 0x200F}, {0x2060, 0x2064}, {0xFEFF, 0xFEFF}, {0x202A, 0x202E}, {0x2066, 0x2069}, {0, 0x1F}, {0x7F, 0x9F}} {
		for r := rg[0]; r <= rg[1]; r++ {
			rs = append(rs, r)
		}
	}
	for _, r := range rs {
		for _, s := range []string{string(r), "ab" + string(r) + "cd", "가나" + string(r)} {
			if err := Check(s, 0); err == nil {
				t.Errorf("Check(%+q) = nil, want an error", s)
			} else if want := fmt.Sprintf("U+%04X", r); !strings.Contains(err.Error(), want) {
				t.Errorf("Check(%+q) = %q, want it to name %s", s, err, want)
			}
		}
	}
}

// FuzzCheck checks Check against its definition, written out again here
// rune by rune, and that its errors are themselves clean text.
func FuzzCheck(f *testing.F) {
	for _, tt := range checkTests {
		f.Add(tt.s, tt.min)
	}
	f.Fuzz(func(t *testing.T, s string, min int) {
		min = min % 8
		err := Check(s, min)
		ok := utf8.ValidString(s)
		alnum := 0
		for _, r := range s {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs) || invisible[r] ||
				(r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFF >= 0xFFFE {
				ok = false
			}
			if unicode.In(r, unicode.L, unicode.N) {
				alnum++
			}
		}
		if alnum < min {
			ok = false
		}
		if ok != (err == nil) {
			t.Fatalf("Check(%+q, %d) = %v, want ok=%v", s, min, err, ok)
		}
		if err != nil {
			if cerr := Check(err.Error(), 0); cerr != nil {
				t.Fatalf("Check(%+q) error %q is not clean text: %v", s, err, cerr)
			}
		}
		if err == nil {
			// Clean text stays clean when repeated.
			if err := Check(s+" "+s, min); err != nil {
				t.Fatalf("Check(%+q twice) = %v", s, err)
			}
		}
	})
}

func ExampleCheck() {
	fmt.Println(Check("close contact of case JJ-2026-0117", 2))
	fmt.Println(Check("\u200b", 2))
	fmt.Println(Check("Cafe \u202eallaH", 1))
	// Output:
	// <nil>
	// an invisible character (U+200B) at byte 0
	// an invisible character (U+202E) at byte 5
}
