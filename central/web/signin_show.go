package web

import (
	"net/http"

	"github.com/anshim/anshim/central/web/form"
)

// signInPage is the data of signin.html.
type signInPage struct {
	Name  string
	Next  string
	Error string // a catalogue key, or ""
	// SignedUp: the account was just made on the sign-up page.
	SignedUp bool
}

// signInShow shows the sign-in form; a signed-in account goes home.
func (wb *Web) signInShow(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	next := form.SafeNext(r.URL.Query().Get("next"))
	if st.Account != nil {
		http.Redirect(w, r, cmpOr(next, home(st.Account.Role)), http.StatusSeeOther)
		return
	}
	wb.render(w, r, http.StatusOK, "signin", signInPage{Next: next, SignedUp: r.URL.Query().Has("signedup")})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
