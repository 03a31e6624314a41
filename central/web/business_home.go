package web

import (
	"errors"
	"net/http"

	"github.com/anshim/anshim/central/store"
)

// businessHomePage is the data of business_home.html.
type businessHomePage struct {
	Venues  []store.Venue
	Applied string // the id of a venue just applied for
}

// businessHome lists the owner's venues with their status, and links to
// the application.
func (wb *Web) businessHome(w http.ResponseWriter, r *http.Request) {
	data := businessHomePage{Applied: r.URL.Query().Get("applied")}
	for _, id := range stateOf(r).Account.Venues {
		v, err := wb.st.Venue(r.Context(), id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			wb.serverError(w, r, err)
			return
		}
		data.Venues = append(data.Venues, v)
	}
	wb.render(w, r, http.StatusOK, "business_home", data)
}

// business returns the central's side of the portal, answering 503 when
// there is none (a web without a central, in tests).
func (wb *Web) business(w http.ResponseWriter, r *http.Request) (Business, bool) {
	if wb.opts.Business == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(stateOf(r).P.T("error.internal") + "\n"))
		return nil, false
	}
	return wb.opts.Business, true
}

// ownedVenue returns the venue of the request's {id} when the account
// owns it; otherwise it answers 404 (another owner's venue is as unknown
// as one that does not exist) and returns false.
func (wb *Web) ownedVenue(w http.ResponseWriter, r *http.Request) (store.Venue, bool) {
	v, err := wb.ownVenue(r, r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errNotOwner):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return store.Venue{}, false
	case err != nil:
		wb.serverError(w, r, err)
		return store.Venue{}, false
	}
	return v, true
}
