package registry

import (
	"regexp"
	"testing"
)

// validBusinessNumbers are valid numbers: REFERENCE.md's examples and one
// whose sum is a multiple of 10, so that its check digit is 0 (the final
// mod 10).
var validBusinessNumbers = []string{"123-45-67891", "124-81-00998", "123-45-67800"}

// Ensure that valid numbers parse, in either form, to NNN-NN-NNNNN.
func TestParseBusinessNumber_Valid(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"123-45-67891", "123-45-67891"},
		{"1234567891", "123-45-67891"},
		{" 124-81-00998\n", "124-81-00998"},
		{"1248100998", "124-81-00998"},
		{"123-45-67800", "123-45-67800"},
		{"0000000000", "000-00-00000"},
	} {
		got, err := ParseBusinessNumber(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseBusinessNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// Ensure that changing any one digit of a valid number, to any other
// digit, makes it invalid: with weights 1, 3 and 7 (units of the integers
// mod 10) and d9 counted as 5·d9 + ⌊5·d9/10⌋ (distinct mod 10 for each
// d9), no single change keeps the check digit.
func TestParseBusinessNumber_OneDigitChanged(t *testing.T) {
	for _, valid := range validBusinessNumbers {
		digits := []byte(valid[:3] + valid[4:6] + valid[7:])
		for pos := range digits {
			for c := byte('0'); c <= '9'; c++ {
				if c == digits[pos] {
					continue
				}
				changed := append([]byte(nil), digits...)
				changed[pos] = c
				_, err := ParseBusinessNumber(string(changed))
				if err != errCheckDigit {
					t.Errorf("%s with digit %d changed to %c (%s): err = %v, want %v", valid, pos+1, c, changed, err, errCheckDigit)
				}
			}
		}
	}
}

// Ensure that the check digit 0 is computed with the final mod 10.
func TestBusinessCheckDigit_Zero(t *testing.T) {
	if got := businessCheckDigit([9]int{1, 2, 3, 4, 5, 6, 7, 8, 0}); got != 0 {
		t.Fatalf("check digit of 123-45-6780 = %d, want 0", got)
	}
	if _, err := ParseBusinessNumber("123-45-67810"); err != errCheckDigit {
		t.Fatalf("123-45-67810: %v, want the check digit error", err)
	}
}

// Ensure that anything but ten digits, bare or as NNN-NN-NNNNN, is refused
// as malformed.
func TestParseBusinessNumber_Form(t *testing.T) {
	for _, in := range []string{
		"", "123-45-6789", "123-45-678911", "12345678912", "123456789",
		"12-345-67891", "123 45 67891", "123.45.67891", "123-4567891", "1234567-891",
		"12345678a1", "123-45-6789a", "１２３４５６７８９１", "+123456789", "-123456789",
		"123--45-6789",
	} {
		if _, err := ParseBusinessNumber(in); err != errBusinessNumberForm {
			t.Errorf("ParseBusinessNumber(%q): err = %v, want %v", in, err, errBusinessNumberForm)
		}
	}
}

var businessNumberForm = regexp.MustCompile(`^[0-9]{3}-[0-9]{2}-[0-9]{5}$`)

// FuzzParseBusinessNumber checks that ParseBusinessNumber never panics, and
// that what it accepts has a matching check digit, keeps the input's
// digits and parses again to itself.
func FuzzParseBusinessNumber(f *testing.F) {
	for _, seed := range businessNumberSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseBusinessNumber(s)
		if err != nil {
			if err != errBusinessNumberForm && err != errCheckDigit {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !businessNumberForm.MatchString(got) {
			t.Fatalf("ParseBusinessNumber(%q) = %q: not NNN-NN-NNNNN", s, got)
		}
		bare := got[:3] + got[4:6] + got[7:]
		var d [9]int
		for i := range d {
			d[i] = int(bare[i] - '0')
		}
		if businessCheckDigit(d) != int(bare[9]-'0') {
			t.Fatalf("ParseBusinessNumber(%q) = %q: check digit does not match", s, got)
		}
		if again, err := ParseBusinessNumber(got); err != nil || again != got {
			t.Fatalf("ParseBusinessNumber(%q) = %q, %v; want itself", got, again, err)
		}
		if again, err := ParseBusinessNumber(bare); err != nil || again != got {
			t.Fatalf("ParseBusinessNumber(%q) = %q, %v; want %q", bare, again, err, got)
		}
		if in := regexp.MustCompile(`[0-9]`).FindAllString(s, -1); len(in) != 10 {
			t.Fatalf("ParseBusinessNumber(%q) accepted %d digits", s, len(in))
		}
	})
}

// businessNumberSeeds returns the FuzzParseBusinessNumber seed corpus, by
// file name.
func businessNumberSeeds() map[string]string {
	return map[string]string{
		"valid-dashes":     "123-45-67891",
		"valid-bare":       "1248100998",
		"valid-zero-check": "123-45-67800",
		"valid-space":      " 123-45-67891\t",
		"bad-check":        "123-45-67890",
		"bad-dashes":       "12-345-67891",
		"short":            "123-45-6789",
		"letters":          "abc-de-fghij",
		"fullwidth":        "１２３-４５-６７８９１",
		"empty":            "",
	}
}
