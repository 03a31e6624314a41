package web

import (
	"net/http"
	"slices"

	"github.com/anshim/anshim/central/store"
)

// placeholderPage is the data of placeholder.html.
type placeholderPage struct {
	System string // business, admin, console, app
}

// placeholder returns the handler of a system's page before the system
// is built: its name and "coming soon".
func placeholder(system string) func(*Web, http.ResponseWriter, *http.Request) {
	return func(wb *Web, w http.ResponseWriter, r *http.Request) {
		wb.render(w, r, http.StatusOK, "placeholder", placeholderPage{System: system})
	}
}

// ownVenue returns the venue id when the request's account owns it
// (errNotOwner otherwise). The business portal's pages all go through it.
func (wb *Web) ownVenue(r *http.Request, id string) (store.Venue, error) {
	st := stateOf(r)
	if st.Account == nil || !slices.Contains(st.Account.Venues, id) {
		return store.Venue{}, errNotOwner
	}
	return wb.st.Venue(r.Context(), id)
}
