package web

import (
	"errors"
	"net/http"

	"github.com/anshim/anshim/central/store"
)

// clerkFind finds the visitor registered with the posted phone number (a
// POST, so that the number is in no address, history or log) and goes to
// their page (303); a number that is none (400) or that no one is
// registered with (404) shows the page again.
func (wb *Web) clerkFind(w http.ResponseWriter, r *http.Request) {
	ops := wb.clerkOps(w, r)
	if ops == nil {
		return
	}
	v, err := ops.FindVisitor(r.Context(), r.PostFormValue("phone"))
	switch {
	case errors.Is(err, ErrInvalid):
		wb.render(w, r, http.StatusBadRequest, "clerk_home", clerkPage{Error: "form.phone.invalid", Field: "find"})
		return
	case errors.Is(err, store.ErrNotFound):
		wb.render(w, r, http.StatusNotFound, "clerk_home", clerkPage{Error: "clerk.find.notfound", Field: "find"})
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/clerk/visitors/"+v.ID, http.StatusSeeOther)
}
