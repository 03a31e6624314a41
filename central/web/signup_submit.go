package web

import (
	"errors"
	"net/http"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/form"
)

// signUpSubmit makes a business account from the sign-up form, an audit
// event of the new account itself, and goes to the sign-in page (303). A
// bad field is 400 and a name taken 409, with the form again.
func (wb *Web) signUpSubmit(w http.ResponseWriter, r *http.Request) {
	f := form.NewSignUp(r)
	data := signUpPage{Name: f.Name, Phone: f.Phone}
	if err := f.Validate(); err != nil {
		var fe *form.FieldError
		errors.As(err, &fe)
		data.Error, data.Field = fe.Key, fe.Field
		wb.render(w, r, http.StatusBadRequest, "signup", data)
		return
	}
	_, err := wb.AddAccount(r.Context(), NewAccount{Name: f.Name, Role: RoleBusiness, Phone: f.Phone, Password: f.Password}, f.Name)
	switch {
	case errors.Is(err, store.ErrExists):
		data.Error, data.Field = "signup.taken", "name"
		wb.render(w, r, http.StatusConflict, "signup", data)
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/signin?signedup=1", http.StatusSeeOther)
}
