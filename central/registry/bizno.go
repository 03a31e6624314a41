package registry

import (
	"errors"
	"strings"
)

// Errors of ParseBusinessNumber.
var (
	errBusinessNumberForm = errors.New("want 10 digits written NNN-NN-NNNNN")
	errCheckDigit         = errors.New("check digit does not match")
)

// businessWeights weigh the first nine digits of a business registration
// number.
var businessWeights = [9]int{1, 3, 7, 1, 3, 7, 1, 3, 5}

// ParseBusinessNumber parses a business registration number (사업자등록번호)
// written NNN-NN-NNNNN or as ten digits, surrounding space allowed, and
// returns it as NNN-NN-NNNNN. The last digit is the check digit of the
// first nine, d1..d9:
//
//	s = d1·1 + d2·3 + d3·7 + d4·1 + d5·3 + d6·7 + d7·1 + d8·3 + d9·5 + ⌊d9·5 / 10⌋
//	check = (10 − s mod 10) mod 10
func ParseBusinessNumber(s string) (string, error) {
	s = strings.TrimSpace(s)
	var digits [10]byte
	switch len(s) {
	case 10:
		copy(digits[:], s)
	case 12:
		if s[3] != '-' || s[6] != '-' {
			return "", errBusinessNumberForm
		}
		copy(digits[:], s[:3])
		copy(digits[3:], s[4:6])
		copy(digits[5:], s[7:])
	default:
		return "", errBusinessNumberForm
	}
	var d [10]int
	for i, c := range digits {
		if c < '0' || c > '9' {
			return "", errBusinessNumberForm
		}
		d[i] = int(c - '0')
	}
	if businessCheckDigit([9]int(d[:9])) != d[9] {
		return "", errCheckDigit
	}
	return string(digits[:3]) + "-" + string(digits[3:5]) + "-" + string(digits[5:]), nil
}

// businessCheckDigit returns the check digit of the first nine digits.
func businessCheckDigit(d [9]int) int {
	s := 0
	for i, w := range businessWeights {
		s += d[i] * w
	}
	s += d[8] * 5 / 10
	return (10 - s%10) % 10
}
