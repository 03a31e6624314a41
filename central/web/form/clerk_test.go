package form

import (
	"errors"
	"strings"
	"testing"
)

// Ensure that a visitor needs a printable name the vault stores and a
// Korean mobile number, which Validate normalises.
func TestVisitor_Validate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		f     Visitor
		field string // "" when valid
		phone string // E.164 when valid
	}{
		{"valid", Visitor{Name: "김민수", Phone: "010-1234-5678"}, "", "+821012345678"},
		{"latin name, international number", Visitor{Name: "John Smith", Phone: "+82 10 9876 5432"}, "", "+821098765432"},
		{"no name", Visitor{Phone: "010-1234-5678"}, "name", ""},
		{"name too long", Visitor{Name: strings.Repeat("김", 67), Phone: "010-1234-5678"}, "name", ""},
		{"name with a control character", Visitor{Name: "김\x07", Phone: "010-1234-5678"}, "name", ""},
		{"name with an invisible character", Visitor{Name: "김\u202e수", Phone: "010-1234-5678"}, "name", ""},
		{"no phone", Visitor{Name: "김민수"}, "phone", ""},
		{"landline", Visitor{Name: "김민수", Phone: "02-123-4567"}, "phone", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.f
			err := f.Validate()
			var fe *FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tt.field == "" && f.Phone != tt.phone:
				t.Fatalf("phone %q, want %q", f.Phone, tt.phone)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Fatalf("Validate = %v, want a FieldError of %s", err, tt.field)
			}
		})
	}
}
