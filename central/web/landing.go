package web

import (
	"errors"
	"net/http"

	"github.com/anshim/anshim/central/store"
)

// landingPage is the data of landing.html.
type landingPage struct {
	// Checkpoint is the ledger's latest signed checkpoint, nil before the
	// first.
	Checkpoint *store.Checkpoint
}

// landing shows the landing page: what the service is, the ways in, and
// the ledger's latest checkpoint as a sign of accountability.
func (wb *Web) landing(w http.ResponseWriter, r *http.Request) {
	var d landingPage
	c, err := wb.st.LatestCheckpoint(r.Context())
	switch {
	case err == nil:
		d.Checkpoint = &c
	case errors.Is(err, store.ErrNotFound):
	default:
		wb.serverError(w, r, err)
		return
	}
	wb.render(w, r, http.StatusOK, "landing", d)
}
