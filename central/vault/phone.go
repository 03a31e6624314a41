package vault

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid marks an input that the vault refuses; the error is a
// *FieldError naming the field.
var ErrInvalid = errors.New("invalid input")

// FieldError is an input the vault refuses, or a duplicate it will not
// store: Field names the input ("name", "phone", "kind", "serial") and
// Reason says what is wrong, without repeating the input (which may be
// personal data). It wraps ErrInvalid, or store.ErrExists for a phone
// number that is registered already.
type FieldError struct {
	Field  string
	Reason string
	Err    error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }
func (e *FieldError) Unwrap() error { return e.Err }

func invalid(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Err: ErrInvalid}
}

// maxPhoneInput bounds the text NormalizePhone reads.
const maxPhoneInput = 32

// NormalizePhone returns the E.164 form ("+821012345678") of a Korean
// mobile number or of a mobile number from abroad, or a *FieldError for
// the field "phone".
//
// It accepts 010 numbers (11 digits: 010-XXXX-XXXX) and the legacy 011,
// 016, 017, 018 and 019 numbers with a 3- or 4-digit middle part (10 or 11
// digits), written
//
//   - nationally, with the leading 0: "010-1234-5678", "01012345678",
//     "010 1234 5678";
//   - internationally, with +82 and without the leading 0:
//     "+82 10-1234-5678", "+821012345678";
//   - internationally with the leading 0 kept, a common way of writing
//     them: "+82 010-1234-5678";
//   - with 0082, the ITU's international prefix, in place of +82:
//     "0082 10 1234 5678". (Korean carriers' own prefixes, 001, 002, 005,
//     00700 and others, are refused: they are dialling codes, not part of
//     a number.)
//
// A number of another country is written with + (or 00) and its country
// code, "+86 138 0013 8000", and accepted when that country's numbering
// plan (libphonenumber's metadata, github.com/nyaruka/phonenumbers) has it
// as a mobile number or may have it (North America does not tell them
// apart): visitors from abroad verify, and clerks register them, with the
// phone they carry.
//
// Spaces and hyphens may separate the digits anywhere; nothing else may
// (no dots, brackets, letters or non-ASCII digits). It refuses landlines
// (02, 031, …, and other countries' landlines), other non-mobile numbers
// (012–015 paging numbers, 050, 070, 080; toll-free numbers abroad),
// numbers no country has, wrong lengths, and a middle part starting with
// 0, which no Korean mobile number has.
//
// NormalizePhone of its own result returns the result.
func NormalizePhone(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", invalid("phone", "empty")
	}
	digits := make([]byte, 0, maxPhoneInput)
	plus := false
	for i, c := range []byte(s) {
		switch {
		case i == maxPhoneInput:
			return "", invalid("phone", "too long for a phone number")
		case '0' <= c && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-':
		case c == '+' && !plus && len(digits) == 0:
			plus = true
		default:
			return "", invalid("phone", "only digits, spaces, hyphens and a leading + may be written")
		}
	}
	national := string(digits)
	switch {
	case len(national) == 0:
		return "", invalid("phone", "no digits")
	case plus || strings.HasPrefix(national, "00"):
		intl := national
		if !plus {
			intl = national[2:] // 00, the ITU's international prefix
		}
		rest, ok := strings.CutPrefix(intl, "82")
		if !ok {
			return foreignMobile(intl)
		}
		if !strings.HasPrefix(rest, "0") {
			rest = "0" + rest
		}
		national = rest
	case national[0] != '0':
		return "", invalid("phone", "write the number with its leading 0 (010-XXXX-XXXX) or with +82")
	}
	if len(national) < 3 || national[1] != '1' {
		return "", invalid("phone", "not a mobile number (want 010, or 011, 016, 017, 018 or 019)")
	}
	switch national[2] {
	case '0':
		if len(national) != 11 {
			return "", invalid("phone", "a 010 number has 11 digits (010-XXXX-XXXX)")
		}
	case '1', '6', '7', '8', '9':
		if len(national) != 10 && len(national) != 11 {
			return "", invalid("phone", "an 011, 016, 017, 018 or 019 number has 10 or 11 digits (01X-XXX-XXXX or 01X-XXXX-XXXX)")
		}
	default:
		return "", invalid("phone", "not a mobile number (want 010, or 011, 016, 017, 018 or 019)")
	}
	if national[3] == '0' {
		return "", invalid("phone", "the middle part of a mobile number does not start with 0")
	}
	return "+82" + national[1:], nil
}

// foreignMobile returns the E.164 form of digits, a number of another
// country than Korea written with its country code, when the numbering
// plan of that country (libphonenumber's metadata) has it as a mobile
// number, or may have it (the plans that do not tell mobile numbers from
// landlines, such as North America's).
func foreignMobile(digits string) (string, error) {
	if len(digits) < 8 || len(digits) > 15 {
		return "", invalid("phone", "a number from abroad has 8 to 15 digits with its country code (China +86, Japan +81, …)")
	}
	n, err := phonenumbers.Parse("+"+digits, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", invalid("phone", "not a valid number of its country: write a number from abroad with + and its country code (China +86, Japan +81, …)")
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", invalid("phone", "not a mobile number of its country (the code comes by text message)")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
