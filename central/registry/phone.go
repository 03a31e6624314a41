package registry

import (
	"errors"
	"strings"
)

var errPhone = errors.New("want a Korean phone number, such as 010-1234-5678, 064-710-1234 or +82 10-1234-5678")

// ParsePhone parses a Korean phone number and returns it in E.164
// (+82 and the national number without its leading 0). It accepts:
//
//   - mobiles: 010 and 8 digits; the older 011, 016, 017, 018 and 019 and
//     7 or 8 digits;
//   - landlines: Seoul's 02 and 7 or 8 digits, or a regional code
//     (031–033, 041–044, 051–055, 061–064) and 7 or 8 digits;
//   - internet phones: 070 and 8 digits;
//   - business representative numbers: 15xx, 16xx or 18xx and 4 digits;
//
// written with or without hyphens, spaces, dots or parentheses, or after
// +82 (the national number's leading 0 dropped or kept). A landline's
// exchange (the part after the area code) never starts with 0 or 1, which
// begin trunk and service numbers. It does not tell whether the number is
// in service.
func ParsePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	intl := false
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		rest = strings.TrimLeft(rest, " ")
		if !strings.HasPrefix(rest, "82") {
			return "", errPhone
		}
		s, intl = rest[2:], true
	}
	digits := make([]byte, 0, 12)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '-' || c == ' ' || c == '.' || c == '(' || c == ')':
		default:
			return "", errPhone
		}
		if len(digits) > 12 {
			return "", errPhone
		}
	}
	n := string(digits)
	if intl && !strings.HasPrefix(n, "0") && !isRepresentative(n) {
		n = "0" + n
	}
	if !validNational(n) {
		return "", errPhone
	}
	return "+82" + strings.TrimPrefix(n, "0"), nil
}

// isRepresentative reports whether n is a business representative number:
// 15xx, 16xx or 18xx and four digits.
func isRepresentative(n string) bool {
	return len(n) == 8 && n[0] == '1' && (n[1] == '5' || n[1] == '6' || n[1] == '8')
}

// validNational reports whether n, all digits, is a national number of
// the forms ParsePhone accepts.
func validNational(n string) bool {
	if isRepresentative(n) {
		return true
	}
	var prefix string
	var lens []int // allowed lengths after the prefix
	landline := false
	switch {
	case strings.HasPrefix(n, "010"), strings.HasPrefix(n, "070"):
		prefix, lens = n[:3], []int{8}
	case len(n) >= 3 && n[:2] == "01" && strings.IndexByte("16789", n[2]) >= 0:
		prefix, lens = n[:3], []int{7, 8}
	case strings.HasPrefix(n, "02"):
		prefix, lens, landline = "02", []int{7, 8}, true
	case len(n) >= 3 && regionalCode(n[:3]):
		prefix, lens, landline = n[:3], []int{7, 8}, true
	default:
		return false
	}
	rest := n[len(prefix):]
	if landline && len(rest) > 0 && (rest[0] == '0' || rest[0] == '1') {
		return false
	}
	for _, l := range lens {
		if len(rest) == l {
			return true
		}
	}
	return false
}

// regionalCode reports whether c is a regional area code.
func regionalCode(c string) bool {
	switch c {
	case "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054", "055", "061", "062", "063", "064":
		return true
	}
	return false
}
