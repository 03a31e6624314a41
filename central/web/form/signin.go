package form

import (
	"net/http"
	"strings"
)

// SignIn is the sign-in form.
type SignIn struct {
	Name     string
	Password string
	// Next is where to go after signing in: a path of this site, or "".
	Next string
}

// NewSignIn reads the sign-in form of a parsed POST.
func NewSignIn(r *http.Request) SignIn {
	return SignIn{Name: strings.ToLower(value(r, "name")), Password: r.PostFormValue("password"), Next: SafeNext(value(r, "next"))}
}

// Validate checks that the name and password are there and not absurdly
// long (the password is checked against the account's hash elsewhere).
func (f SignIn) Validate() error {
	switch {
	case f.Name == "" || len(f.Name) > 64:
		return invalid("name", "form.name.required")
	case f.Password == "":
		return invalid("password", "form.password.required")
	case len(f.Password) > MaxPassword:
		return invalid("password", "form.password.length")
	}
	return nil
}

// SafeNext returns next when it is a path of this site ("/business"),
// else "": never another host ("//evil.example", "https://…", "/\\evil").
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") || len(next) > 512 {
		return ""
	}
	return next
}
