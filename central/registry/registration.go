package registry

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/anshim/anshim/internal/text"
	"github.com/anshim/anshim/sync/wire"
)

// Registration is what a venue registers with: the body of the central's
// POST /v1/venues. The JSON field names are the names its errors use.
type Registration struct {
	// ID names the venue in NATS subjects and codes: see [wire.ValidVenueID].
	ID   string `json:"id"`
	Name string `json:"name"`
	// BusinessNumber is the 사업자등록번호 (see [ParseBusinessNumber]).
	BusinessNumber string   `json:"business_number"`
	Address        string   `json:"address"`
	Category       Category `json:"category"`
	// DefaultStay is the venue's own default stay in minutes, [MinStay]
	// to [MaxStay]; 0 means its category's.
	DefaultStay int      `json:"default_stay,omitempty"`
	Location    Location `json:"location"`
	// OwnerPhone is the owner's phone number (see [ParsePhone]).
	OwnerPhone string `json:"owner_phone"`
	// Status is the status to register with: applied (the default) or,
	// for a province's own entry, approved.
	Status Status `json:"status,omitempty"`
}

// Limits of the text fields, in bytes of UTF-8.
const (
	MaxNameLen    = 200
	MaxAddressLen = 300
)

// Validate checks every field of r. Its error is an [InvalidError] that
// names each bad field, such as "business_number: check digit does not
// match; location.lat: 91 is outside South Korea (33 to 38.7 N)".
func (r Registration) Validate() error {
	_, err := r.Normalize()
	return err
}

// Normalize checks r like Validate and returns it in canonical form: text
// trimmed, the business number as NNN-NN-NNNNN, the category in lower
// case, the phone number in E.164 and the status applied when none was
// given.
func (r Registration) Normalize() (Registration, error) {
	var errs InvalidError
	bad := func(field string, err error) {
		errs = append(errs, &FieldError{Field: field, Err: err})
	}
	if !wire.ValidVenueID(r.ID) {
		bad("id", fmt.Errorf("%q: want 1 to 64 letters, digits, '-' or '_'", r.ID))
	}
	var err error
	if r.Name, err = checkText(r.Name, MaxNameLen); err != nil {
		bad("name", err)
	}
	if r.BusinessNumber == "" {
		bad("business_number", errors.New("missing"))
	} else if r.BusinessNumber, err = ParseBusinessNumber(r.BusinessNumber); err != nil {
		bad("business_number", err)
	}
	if r.Address, err = checkText(r.Address, MaxAddressLen); err != nil {
		bad("address", err)
	}
	if r.Category == "" {
		bad("category", errors.New("missing"))
	} else if r.Category, err = ParseCategory(string(r.Category)); err != nil {
		bad("category", err)
	}
	if r.DefaultStay != 0 {
		if err := checkStay(r.DefaultStay); err != nil {
			bad("default_stay", err)
		}
	}
	var loc InvalidError
	if errors.As(CheckLocation(r.Location), &loc) {
		errs = append(errs, loc...)
	}
	if r.OwnerPhone == "" {
		bad("owner_phone", errors.New("missing"))
	} else if r.OwnerPhone, err = ParsePhone(r.OwnerPhone); err != nil {
		bad("owner_phone", err)
	}
	switch r.Status {
	case StatusNone:
		r.Status = StatusApplied
	case StatusApplied, StatusApproved:
	case StatusSuspended:
		bad("status", errors.New("a new venue is applied or approved"))
	default:
		bad("status", fmt.Errorf("unknown status %q (want applied or approved)", string(r.Status)))
	}
	if err := errs.orNil(); err != nil {
		return Registration{}, err
	}
	return r, nil
}

// checkText trims s and checks that it is 1 to max bytes of readable
// UTF-8 with a letter or digit: no control or invisible characters (such
// as U+202E, which shows a name backwards), as [text.Check] defines them.
func checkText(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errors.New("missing")
	case !utf8.ValidString(s):
		return "", errors.New("not UTF-8")
	case len(s) > max:
		return "", fmt.Errorf("%d bytes, want at most %d", len(s), max)
	}
	if err := text.Check(s, 1); err != nil {
		return "", fmt.Errorf("holds %w", err)
	}
	return s, nil
}

// FieldError is a problem with one field of a registration.
type FieldError struct {
	// Field is the field's JSON name, with a dot into nested objects:
	// "business_number", "location.lat".
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// InvalidError is the error of a registration with bad fields: one
// [*FieldError] for each, in the order of the fields.
type InvalidError []*FieldError

// Error joins the fields' errors with "; ".
func (e InvalidError) Error() string {
	msgs := make([]string, len(e))
	for i, fe := range e {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the field errors, for errors.As and errors.Is.
func (e InvalidError) Unwrap() []error {
	errs := make([]error, len(e))
	for i, fe := range e {
		errs[i] = fe
	}
	return errs
}

// Fields returns the names of the bad fields.
func (e InvalidError) Fields() []string {
	names := make([]string, len(e))
	for i, fe := range e {
		names[i] = fe.Field
	}
	return names
}

// orNil returns e, or nil when it is empty.
func (e InvalidError) orNil() error {
	if len(e) == 0 {
		return nil
	}
	return e
}
