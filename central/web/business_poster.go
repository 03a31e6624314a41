package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/anshim/anshim/central/poster"
	"github.com/anshim/anshim/central/registry"
)

// businessPosterPDF answers an approved venue's printable A4 poster as a
// PDF with a new poster code (central/poster); 409 before approval.
func (wb *Web) businessPosterPDF(w http.ResponseWriter, r *http.Request) {
	wb.businessPoster(w, r, "application/pdf", "pdf", poster.PDF)
}

// businessPosterPNG is businessPosterPDF as a PNG.
func (wb *Web) businessPosterPNG(w http.ResponseWriter, r *http.Request) {
	wb.businessPoster(w, r, "image/png", "png", poster.PNG)
}

func (wb *Web) businessPoster(w http.ResponseWriter, r *http.Request, contentType, ext string, draw func(io.Writer, poster.Poster) error) {
	v, ok := wb.ownedVenue(w, r)
	if !ok {
		return
	}
	if v.Status != registry.StatusApproved {
		wb.renderError(w, r, http.StatusConflict, "biz.notapproved")
		return
	}
	biz, ok := wb.business(w, r)
	if !ok {
		return
	}
	code, issued, err := biz.Poster(r.Context(), stateOf(r).Account.Name, v.ID)
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	var b bytes.Buffer
	p := poster.Poster{VenueID: v.ID, Name: v.Name, Address: v.Address, Category: v.Category, Code: code, Issued: issued}
	if err := draw(&b, p); err != nil {
		wb.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="anshim-poster-%s.%s"`, v.ID, ext))
	w.Write(b.Bytes())
}
