// Package text checks the free text that people type into the central and
// others read: venue names and addresses, person names, the reasons and
// case references of traces.
//
// # What is refused
//
// Check refuses text that is not UTF-8, control characters (category Cc:
// line breaks, tabs, DEL, C1), invisible formatting characters (category
// Cf: zero-width spaces and joiners U+200B–U+200F, word joiners
// U+2060–U+2064, the byte-order mark U+FEFF, the bidirectional controls
// U+202A–U+202E and U+2066–U+2069, soft hyphens, tags), line and
// paragraph separators (Zl, Zp), private-use characters (Co),
// noncharacters, and the characters that render as nothing although their
// category says letter or symbol (the Hangul fillers U+115F, U+1160,
// U+3164, U+FFA0, the combining grapheme joiner U+034F, the blank Braille
// pattern U+2800). Such characters let a "reason" of one zero-width space
// pass a TrimSpace check, or a venue name read backwards on screen
// (U+202E). Ordinary spaces, punctuation, marks and emoji without joiners
// pass.
//
// It also wants a minimum of letters and digits (categories L and N), so
// that a field of spaces and punctuation alone is refused.
package text

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// invisible are characters outside the refused categories that render as
// nothing.
var invisible = map[rune]bool{
	0x034F: true, // combining grapheme joiner (Mn)
	0x115F: true, // Hangul choseong filler (Lo)
	0x1160: true, // Hangul jungseong filler (Lo)
	0x2800: true, // Braille pattern blank (So)
	0x3164: true, // Hangul filler (Lo)
	0xFFA0: true, // halfwidth Hangul filler (Lo)
}

// Check reports whether s is text a person can read as typed: valid
// UTF-8 without control, invisible or private characters (see the package
// documentation), holding at least minAlnum letters or digits. Its error
// names the first bad character by code point and byte offset, never by
// the character itself, so that it is safe to print and log.
func Check(s string, minAlnum int) error {
	alnum := 0
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Errorf("not UTF-8 at byte %d", i)
			}
		}
		if what := refused(r); what != "" {
			return fmt.Errorf("%s (U+%04X) at byte %d", what, r, i)
		}
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			alnum++
		}
	}
	if alnum < minAlnum {
		if minAlnum == 1 {
			return fmt.Errorf("no letter or digit")
		}
		return fmt.Errorf("%d letters or digits, want at least %d", alnum, minAlnum)
	}
	return nil
}

// refused says why r is refused, or "" if it is not.
func refused(r rune) string {
	switch {
	case unicode.Is(unicode.Cc, r):
		if r == '\n' || r == '\r' {
			return "a line break"
		}
		return "a control character"
	case unicode.Is(unicode.Cf, r), invisible[r]:
		return "an invisible character"
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return "a line break"
	case unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r), noncharacter(r):
		return "a private or non-character"
	}
	return ""
}

// noncharacter reports whether r is one of Unicode's 66 noncharacters.
func noncharacter(r rune) bool {
	return r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE
}
