package form

import (
	"net/http"

	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/internal/text"
)

// Visitor is a clerk's registration of a visitor without a smartphone:
// their name and mobile number, which go sealed into the identity vault.
type Visitor struct {
	Name  string
	Phone string // normalised to E.164 by Validate
}

// NewVisitor reads the registration form of a parsed POST.
func NewVisitor(r *http.Request) Visitor {
	return Visitor{Name: value(r, "name"), Phone: value(r, "phone")}
}

// Validate checks the name by the vault's rules (not empty, at most
// vault.MaxNameBytes, no control or invisible characters) and normalises
// the phone number (a Korean mobile number in any usual form, or one from
// abroad with its country code) to E.164.
func (f *Visitor) Validate() error {
	if f.Name == "" || len(f.Name) > vault.MaxNameBytes || text.Check(f.Name, 1) != nil {
		return invalid("name", "clerk.name.invalid")
	}
	phone, err := vault.NormalizePhone(f.Phone)
	if err != nil {
		return invalid("phone", "form.phone.invalid")
	}
	f.Phone = phone
	return nil
}
