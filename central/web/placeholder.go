package web

import (
	"errors"
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

// venuePage is the data of venue.html.
type venuePage struct {
	Venue store.Venue
}

// businessVenue shows a venue to its owner; another business account gets
// 404, as for a venue that does not exist: an owner sees only their own.
func (wb *Web) businessVenue(w http.ResponseWriter, r *http.Request) {
	v, err := wb.ownVenue(r, r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errNotOwner):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	wb.render(w, r, http.StatusOK, "venue", venuePage{Venue: v})
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
