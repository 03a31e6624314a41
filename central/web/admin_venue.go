package web

import (
	"errors"
	"net/http"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/form"
)

// adminVenuePage is the data of admin_venue.html.
type adminVenuePage struct {
	Venue store.Venue
	// Moves are the statuses the reviewer may move it to.
	Moves  []string
	Reason string // the reason typed, shown again with an error
	Error  string // a catalogue key
	Done   bool   // the status was just changed
}

// moves returns the statuses a reviewer may move a venue of status s to.
func moves(s registry.Status) []string {
	var out []string
	for _, to := range []registry.Status{registry.StatusApproved, registry.StatusRejected, registry.StatusSuspended} {
		if s != to && registry.CheckTransition(s, to) == nil {
			out = append(out, string(to))
		}
	}
	return out
}

// adminVenue shows a venue to review: its registration, its status and
// reason, and the decisions open to it.
func (wb *Web) adminVenue(w http.ResponseWriter, r *http.Request) {
	v, err := wb.st.Venue(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	wb.render(w, r, http.StatusOK, "admin_venue", adminVenuePage{Venue: v, Moves: moves(v.Status), Done: r.URL.Query().Get("done") == "1"})
}

// adminVenueStatus takes a review: approve, reject with a reason, suspend
// or reinstate (approve a suspended venue). It goes back to the venue
// (303); a refused form or move shows the page again with the error.
func (wb *Web) adminVenueStatus(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	v, err := wb.st.Venue(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	f := form.NewReview(r)
	again := func(key string) {
		wb.render(w, r, http.StatusBadRequest, "admin_venue", adminVenuePage{Venue: v, Moves: moves(v.Status), Reason: f.Reason, Error: key})
	}
	if err := f.Validate(); err != nil {
		var fe *form.FieldError
		errors.As(err, &fe)
		again(fe.Key)
		return
	}
	if wb.opts.Admin == nil {
		wb.serverError(w, r, errors.New("no Admin in the web's options"))
		return
	}
	_, err = wb.opts.Admin.ReviewVenue(ctx, stateOf(r).Account.Name, id, registry.Status(f.Status), f.Reason)
	var te *registry.TransitionError
	switch {
	case errors.As(err, &te):
		again("admin.review.transition")
		return
	case errors.Is(err, ErrInvalid):
		again("admin.review.reason.required")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/venues/"+id+"?done=1", http.StatusSeeOther)
}
