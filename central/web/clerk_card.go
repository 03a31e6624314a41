package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/anshim/anshim/central/poster"
	"github.com/anshim/anshim/central/store"
)

// clerkCardPDF answers a valid card of the visitor as a PDF the size of a
// bank card (central/poster.CardPDF): 404 for no such card, 410 for a
// revoked one (print a new one).
func (wb *Web) clerkCardPDF(w http.ResponseWriter, r *http.Request) {
	ops, v, ok := wb.visitorOf(w, r)
	if !ok {
		return
	}
	serial, err := strconv.ParseUint(r.PathValue("serial"), 10, 32)
	if err != nil || serial == 0 {
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	c, err := ops.Card(r.Context(), v.ID, uint32(serial))
	switch {
	case errors.Is(err, ErrRevoked):
		wb.renderError(w, r, http.StatusGone, "clerk.card.revoked")
		return
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := poster.CardPDF(&b, c); err != nil {
		wb.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="anshim-card-%d.pdf"`, serial))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}
