package form

import (
	"errors"
	"testing"
	"time"
)

// Ensure that the case form takes a phone number or a person id, the
// date that starts the window, a degree of 1–4 and filter dates in
// order, and refuses each mistake with its field.
func TestCase_Validate(t *testing.T) {
	ok := Case{CaseRef: "2026-보건-17", Phone: "010-1234-5678", Onset: "2026-11-20"}
	tests := []struct {
		name  string
		edit  func(*Case)
		field string // "" valid
	}{
		{"valid", func(*Case) {}, ""},
		{"person id", func(c *Case) { c.Phone, c.Person = "", "p-0123" }, ""},
		{"asymptomatic", func(c *Case) { c.Onset, c.Tested, c.Asymptomatic = "", "2026-11-21", true }, ""},
		{"degree 4", func(c *Case) { c.Degree = "4" }, ""},
		{"filters", func(c *Case) { c.Venue, c.From, c.To = "v-1", "2026-11-19", "2026-11-19" }, ""},
		{"no case ref", func(c *Case) { c.CaseRef = "" }, "case_ref"},
		{"both phone and person", func(c *Case) { c.Person = "p-1" }, "phone"},
		{"neither", func(c *Case) { c.Phone = "" }, "phone"},
		{"bad person", func(c *Case) { c.Phone, c.Person = "", "x" }, "person"},
		{"bad onset", func(c *Case) { c.Onset = "20-11-2026" }, "onset"},
		{"asymptomatic without test date", func(c *Case) { c.Asymptomatic = true }, "onset"},
		{"degree 5", func(c *Case) { c.Degree = "5" }, "degree"},
		{"degree 0", func(c *Case) { c.Degree = "0" }, "degree"},
		{"to before from", func(c *Case) { c.From, c.To = "2026-11-20", "2026-11-19" }, "to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			v, err := c.Validate()
			var fe *FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate = %v, want valid", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Fatalf("Validate = %v, want an error of %s", err, tt.field)
			}
			if tt.name == "valid" && (v.Degree != 2 || !v.Onset.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, kst))) {
				t.Errorf("values = %+v: want degree 2, onset 2026-11-20 KST", v)
			}
			if tt.name == "filters" && v.To.Sub(v.From) != 24*time.Hour {
				t.Errorf("filter %v to %v: want one whole day", v.From, v.To)
			}
		})
	}
}

// Ensure that a reveal chooses all contacts, a degree or a venue, with a
// reason.
func TestConsoleReveal_Validate(t *testing.T) {
	tests := []struct {
		set, reason string
		degree      int
		venue       string
		bad         bool
	}{
		{"all", "역학조사 연락", 0, "", false},
		{"d2", "역학조사 연락", 2, "", false},
		{"v:v-cafe", "역학조사 연락", 0, "v-cafe", false},
		{"d5", "역학조사 연락", 0, "", true},
		{"v:", "역학조사 연락", 0, "", true},
		{"", "역학조사 연락", 0, "", true},
		{"all", "왜", 0, "", true},
	}
	for _, tt := range tests {
		d, v, err := ConsoleReveal{Set: tt.set, Reason: tt.reason}.Validate()
		if (err != nil) != tt.bad || d != tt.degree || v != tt.venue {
			t.Errorf("Validate(%q, %q) = %d, %q, %v", tt.set, tt.reason, d, v, err)
		}
	}
}
