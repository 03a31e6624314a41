// Package form parses the web's forms from requests into structs whose
// Validate methods hold the rules, so that the rules are tested without
// HTTP. A Validate error is a *FieldError whose Key is a message key of
// the locale catalogues.
package form

import (
	"net/http"
	"strings"
)

// FieldError is a field a form refuses: Field names it ("name"), Key is
// the catalogue key of the message shown to the person.
type FieldError struct {
	Field string
	Key   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Key }

func invalid(field, key string) error { return &FieldError{Field: field, Key: key} }

// value returns a posted field with surrounding space removed.
func value(r *http.Request, name string) string {
	return strings.TrimSpace(r.PostFormValue(name))
}

// ValidName reports whether name can name an account or an API token:
// 2 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter, such as
// "kim.jiwoo" (one word in a ledger leaf). It is central.ValidAccountName.
func ValidName(name string) bool {
	if len(name) < 2 || len(name) > 64 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
