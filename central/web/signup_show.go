package web

import "net/http"

// signUpPage is the data of signup.html.
type signUpPage struct {
	Name  string
	Phone string
	Error string // a catalogue key, or ""
	Field string // the field of Error
}

// signUpShow shows the sign-up form of a business owner.
func (wb *Web) signUpShow(w http.ResponseWriter, r *http.Request) {
	if st := stateOf(r); st.Account != nil {
		http.Redirect(w, r, home(st.Account.Role), http.StatusSeeOther)
		return
	}
	wb.render(w, r, http.StatusOK, "signup", signUpPage{})
}
