package form

import (
	"errors"
	"strings"
	"testing"
)

// Ensure that the account form refuses each bad field with its key, and
// normalises the phone number of a good one.
func TestAccount_Validate(t *testing.T) {
	good := Account{Name: "kim.jiwoo", Role: "business", Phone: "010-1234-5678", Password: "long enough pw", Confirm: "long enough pw"}
	for _, tt := range []struct {
		name  string
		edit  func(*Account)
		field string
	}{
		{"good", func(*Account) {}, ""},
		{"role", func(a *Account) { a.Role = "root" }, "role"},
		{"name upper case", func(a *Account) { a.Name = "Kim" }, "name"},
		{"name too short", func(a *Account) { a.Name = "k" }, "name"},
		{"name with space", func(a *Account) { a.Name = "kim jiwoo" }, "name"},
		{"name Korean", func(a *Account) { a.Name = "김지우" }, "name"},
		{"phone", func(a *Account) { a.Phone = "02-123-4567" }, "phone"},
		{"short password", func(a *Account) { a.Password, a.Confirm = "123456789", "123456789" }, "password"},
		{"long password", func(a *Account) { a.Password = strings.Repeat("x", 129); a.Confirm = a.Password }, "password"},
		{"password with the name", func(a *Account) { a.Password, a.Confirm = "KIM.JIWOO-2026", "KIM.JIWOO-2026" }, "password"},
		{"confirm", func(a *Account) { a.Confirm = "something else" }, "confirm"},
		{"ten Korean characters", func(a *Account) {
			a.Password, a.Confirm = "안심비밀번호입니다요", "안심비밀번호입니다요"
		}, ""},
	} {
		a := good
		tt.edit(&a)
		err := a.Validate()
		var fe *FieldError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field || fe.Key == ""):
			t.Errorf("%s: %v, want a FieldError of %s", tt.name, err, tt.field)
		case tt.field == "" && a.Phone != "+821012345678":
			t.Errorf("%s: phone %q, want E.164", tt.name, a.Phone)
		}
	}
}

// Ensure that the sign-in form wants both fields and that next stays on
// this site.
func TestSignIn_Validate(t *testing.T) {
	for _, tt := range []struct {
		f     SignIn
		field string
	}{
		{SignIn{Name: "kim", Password: "x"}, ""},
		{SignIn{Password: "x"}, "name"},
		{SignIn{Name: "kim"}, "password"},
		{SignIn{Name: "kim", Password: strings.Repeat("x", 200)}, "password"},
	} {
		err := tt.f.Validate()
		var fe *FieldError
		if (tt.field == "") != (err == nil) || err != nil && (!errors.As(err, &fe) || fe.Field != tt.field) {
			t.Errorf("%+v: %v, want field %q", tt.f, err, tt.field)
		}
	}
	for next, want := range map[string]string{"/console": "/console", "//evil": "", "http://x/": "", "/a\\b": "", "": "", "console": ""} {
		if got := SafeNext(next); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
