package vault

import (
	"errors"
	"strings"
	"testing"
)

// phoneTests are the vectors of NormalizePhone: want "" means refused,
// with a reason containing reason.
var phoneTests = []struct {
	name, in, want, reason string
}{
	// 010, every way of writing it.
	{"010 hyphens", "010-1234-5678", "+821012345678", ""},
	{"010 digits", "01012345678", "+821012345678", ""},
	{"010 spaces", "010 1234 5678", "+821012345678", ""},
	{"010 surrounding spaces", "  010-1234-5678 ", "+821012345678", ""},
	{"010 odd grouping", "0101-234-5678", "+821012345678", ""},
	{"+82 spaced", "+82 10-1234-5678", "+821012345678", ""},
	{"+82 hyphens", "+82-10-1234-5678", "+821012345678", ""},
	{"E.164", "+821012345678", "+821012345678", ""},
	{"+82 with trunk 0", "+82 010-1234-5678", "+821012345678", ""},
	{"+82 with trunk 0 joined", "+82010 1234 5678", "+821012345678", ""},
	{"plus then space", "+ 82 10 1234 5678", "+821012345678", ""},
	{"0082", "0082 10 1234 5678", "+821012345678", ""},
	{"0082 joined", "00821012345678", "+821012345678", ""},
	{"0082 with trunk 0", "0082-010-1234-5678", "+821012345678", ""},
	{"010 middle 9999", "010-9999-0000", "+821099990000", ""},
	// Legacy prefixes, 3- and 4-digit middle parts.
	{"011 3-digit", "011-234-5678", "+82112345678", ""},
	{"011 4-digit", "011-1234-5678", "+821112345678", ""},
	{"016 3-digit", "016-987-6543", "+82169876543", ""},
	{"017 4-digit digits", "01791234567", "+821791234567", ""},
	{"018 +82", "+82 18-345-6789", "+82183456789", ""},
	{"019 +82 4-digit", "+82 19 2345 6789", "+821923456789", ""},

	// Refused.
	{"empty", "", "", "empty"},
	{"blank", "   ", "", "empty"},
	{"only hyphens", "---", "", "no digits"},
	{"plus alone", "+", "", "no digits"},
	{"letters", "010-1234-567a", "", "only digits"},
	{"vanity letters", "010-CALL-NOW1", "", "only digits"},
	{"dots", "010.1234.5678", "", "only digits"},
	{"brackets", "(010) 1234-5678", "", "only digits"},
	{"tab", "010\t1234\t5678", "", "only digits"},
	{"full-width digits", "０１０-１２３４-５６７８", "", "only digits"},
	{"unicode hyphen", "010‐1234‐5678", "", "only digits"},
	{"plus inside", "010+12345678", "", "only digits"},
	{"two plus", "++821012345678", "", "only digits"},
	{"too long", "010-1234-5678-0000-0000-0000-0000-0", "", "too long"},
	{"010 short", "010-123-4567", "", "11 digits"},
	{"010 long", "010-1234-56789", "", "11 digits"},
	{"011 short", "011-12-3456", "", "10 or 11 digits"},
	{"011 long", "011-1234-56789", "", "10 or 11 digits"},
	{"middle starts with 0", "010-0123-4567", "", "does not start with 0"},
	{"legacy middle starts with 0", "016-023-4567", "", "does not start with 0"},
	{"Seoul landline", "02-123-4567", "", "not a mobile number"},
	{"Jeju landline", "064-710-2114", "", "not a mobile number"},
	{"Jeju landline +82", "+82 64-710-2114", "", "not a mobile number"},
	{"pager 012", "012-345-6789", "", "not a mobile number"},
	{"015", "015-1234-5678", "", "not a mobile number"},
	{"VoIP 070", "070-1234-5678", "", "not a mobile number"},
	{"050", "0505-123-4567", "", "not a mobile number"},
	{"toll-free 080", "080-123-4567", "", "not a mobile number"},
	{"no leading 0", "1012345678", "", "leading 0"},
	{"82 without plus", "821012345678", "", "leading 0"},
	{"just 0", "0", "", "not a mobile number"},
	{"carrier prefix 001", "001-82-10-1234-5678", "", "not a valid number of its country"},
	{"carrier prefix 00700", "00700 82 10 1234 5678", "", "not a valid number of its country"},
	// From abroad: mobile numbers of other countries, with their country
	// code (libphonenumber's numbering plans).
	{"China", "+86 138 0013 8000", "+8613800138000", ""},
	{"China 0086", "0086 138 0013 8000", "+8613800138000", ""},
	{"Japan", "+81 90-1234-5678", "+819012345678", ""},
	{"Taiwan", "+886 912 345 678", "+886912345678", ""},
	{"Hong Kong", "+852 9123 4567", "+85291234567", ""},
	{"Vietnam", "+84 91 234 56 78", "+84912345678", ""},
	{"US (mobile or landline)", "+1 650 253 0000", "+16502530000", ""},
	{"UK mobile", "+44 7911 123456", "+447911123456", ""},
	{"E.164 from abroad", "+447911123456", "+447911123456", ""},
	{"Beijing landline", "+86 10 1234 5678", "", "not a mobile number of its country"},
	{"London landline", "+44 20 7946 0958", "", "not a mobile number of its country"},
	{"US toll-free", "+1 800 555 0100", "", "not a mobile number of its country"},
	{"UK drama number", "+44 7700 900123", "", "not a valid number of its country"},
	{"no such country", "+999 1234 5678", "", "not a valid number of its country"},
	{"abroad too short", "+86 1380", "", "8 to 15 digits"},
	{"abroad too long", "+86 138 0013 8000 1234 5", "", "8 to 15 digits"},
	{"+82 only", "+82", "", "not a mobile number"},
	{"+82 doubled", "+82 0082 10 1234 5678", "", "not a mobile number"},
}

// Ensure that NormalizePhone gives the E.164 form of every way of writing a
// Korean mobile number, refuses everything else with an error naming the
// field, and never repeats the input in its error.
func TestNormalizePhone(t *testing.T) {
	for _, tt := range phoneTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("NormalizePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("NormalizePhone(%q) = %q, want an error", tt.in, got)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "phone" || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "phone: ") {
				t.Fatalf("NormalizePhone(%q): %#v, want a *FieldError for phone wrapping ErrInvalid", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("NormalizePhone(%q): %q, want a reason with %q", tt.in, err, tt.reason)
			}
			if digits := strings.Map(keepDigits, tt.in); len(digits) >= 4 && strings.Contains(err.Error(), digits) {
				t.Errorf("NormalizePhone(%q): error %q repeats the number", tt.in, err)
			}
		})
	}
}

func keepDigits(r rune) rune {
	if '0' <= r && r <= '9' {
		return r
	}
	return -1
}
