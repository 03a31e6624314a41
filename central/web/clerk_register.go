package web

import (
	"errors"
	"net/http"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/form"
)

// clerkRegister registers the posted visitor in the identity vault and
// goes to their page (303), where the clerk prints the card. A number
// registered already goes to the page of the visitor registered with it,
// which says so; bad input shows the form again (400) with the name but
// never the number.
func (wb *Web) clerkRegister(w http.ResponseWriter, r *http.Request) {
	f := form.NewVisitor(r)
	if err := f.Validate(); err != nil {
		var fe *form.FieldError
		errors.As(err, &fe)
		wb.render(w, r, http.StatusBadRequest, "clerk_home", clerkPage{Name: f.Name, Error: fe.Key, Field: fe.Field})
		return
	}
	ops := wb.clerkOps(w, r)
	if ops == nil {
		return
	}
	v, err := ops.RegisterVisitor(r.Context(), stateOf(r).Account.Name, f.Name, f.Phone)
	switch {
	case errors.Is(err, store.ErrExists) && v.ID != "":
		http.Redirect(w, r, "/clerk/visitors/"+v.ID+"?registered=already", http.StatusSeeOther)
		return
	case errors.Is(err, ErrInvalid):
		wb.render(w, r, http.StatusBadRequest, "clerk_home", clerkPage{Name: f.Name, Error: "clerk.name.invalid", Field: "name"})
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/clerk/visitors/"+v.ID+"?registered=new", http.StatusSeeOther)
}
