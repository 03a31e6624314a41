package vault

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// e164Mobile is what NormalizePhone returns for Korea: +82, a mobile
// prefix without its 0, a middle part not starting with 0, 10 or 11
// national digits in all (010 always 11).
var e164Mobile = regexp.MustCompile(`^\+82(10[1-9][0-9]{7}|1[16789][1-9][0-9]{6,7})$`)

// e164Abroad is what it returns for another country (not +82): E.164, 8
// to 15 digits.
var e164Abroad = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// FuzzNormalizePhone checks, for any input, that NormalizePhone either
// refuses it with a *FieldError for "phone", or returns an E.164 Korean
// mobile number that normalises to itself, also written nationally and
// with hyphens, or an E.164 number of another country that normalises to
// itself, also written with 00. Seeded from the table of
// TestNormalizePhone and testdata/fuzz/FuzzNormalizePhone.
func FuzzNormalizePhone(f *testing.F) {
	for _, tt := range phoneTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizePhone(in)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "phone" || !errors.Is(err, ErrInvalid) {
				t.Fatalf("NormalizePhone(%q): %#v, want a *FieldError for phone", in, err)
			}
			if digits := strings.Map(keepDigits, in); len(digits) >= 4 && strings.Contains(err.Error(), digits) {
				t.Fatalf("NormalizePhone(%q): error %q repeats the number", in, err)
			}
			return
		}
		if !strings.HasPrefix(got, "+82") {
			if !e164Abroad.MatchString(got) {
				t.Fatalf("NormalizePhone(%q) = %q, not an E.164 number of another country", in, got)
			}
			for _, again := range []string{got, "00" + got[1:], "+ " + got[1:]} {
				if g, err := NormalizePhone(again); err != nil || g != got {
					t.Fatalf("NormalizePhone(%q) = %q, %v; want %q (from %q)", again, g, err, got, in)
				}
			}
			return
		}
		if !e164Mobile.MatchString(got) {
			t.Fatalf("NormalizePhone(%q) = %q, not an E.164 Korean mobile number", in, got)
		}
		national := "0" + got[3:]
		for _, again := range []string{got, national, national[:3] + "-" + national[3:len(national)-4] + "-" + national[len(national)-4:], "+82 " + got[3:]} {
			if g, err := NormalizePhone(again); err != nil || g != got {
				t.Fatalf("NormalizePhone(%q) = %q, %v; want %q (from %q)", again, g, err, got, in)
			}
		}
	})
}
