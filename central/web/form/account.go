package form

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/vault"
)

// Bounds of a password, in characters (MinPassword) and bytes
// (MaxPassword).
const (
	MinPassword = 10
	MaxPassword = 128
)

// Account is the form of a new account: the sign-up of a business owner
// (Role "business"), or an account an admin adds.
type Account struct {
	Name     string
	Role     string
	Phone    string // normalised to E.164 by Validate
	Password string
	Confirm  string
}

// NewSignUp reads the sign-up form of a parsed POST: a business account.
func NewSignUp(r *http.Request) Account {
	return Account{Name: strings.ToLower(value(r, "name")), Role: "business", Phone: value(r, "phone"),
		Password: r.PostFormValue("password"), Confirm: r.PostFormValue("confirm")}
}

// Validate checks every field and normalises the phone number (a Korean
// mobile number in any usual form) to E.164.
func (f *Account) Validate() error {
	switch f.Role {
	case "admin", "investigator", "business", "clerk":
	default:
		return invalid("role", "form.role.invalid")
	}
	if !store.ValidAccountName(f.Name) {
		return invalid("name", "form.name.invalid")
	}
	phone, err := vault.NormalizePhone(f.Phone)
	if err != nil {
		return invalid("phone", "form.phone.invalid")
	}
	f.Phone = phone
	switch {
	case utf8.RuneCountInString(f.Password) < MinPassword || len(f.Password) > MaxPassword:
		return invalid("password", "form.password.length")
	case strings.Contains(strings.ToLower(f.Password), f.Name):
		return invalid("password", "form.password.name")
	case f.Password != f.Confirm:
		return invalid("confirm", "form.password.confirm")
	}
	return nil
}
