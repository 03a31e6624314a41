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
