package web

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// businessTokenCreate issues a kiosk enrollment token of an approved
// venue and shows the venue's page with it, as text and as a QR code:
// the only time it is shown (only its hash is kept). 409 before approval.
func (wb *Web) businessTokenCreate(w http.ResponseWriter, r *http.Request) {
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
	tok, err := biz.NewToken(r.Context(), stateOf(r).Account.Name, v.ID)
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	qr, err := qrDataURL(tok.Token)
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	data, err := wb.venuePageData(r, v)
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	data.NewToken, data.TokenQR = &tok, qr
	wb.render(w, r, http.StatusOK, "business_venue", data)
}

// businessTokenRevoke deletes an unused enrollment token of the venue
// and goes back to its page (303); a used or unknown token is 404.
func (wb *Web) businessTokenRevoke(w http.ResponseWriter, r *http.Request) {
	v, ok := wb.ownedVenue(w, r)
	if !ok {
		return
	}
	biz, ok := wb.business(w, r)
	if !ok {
		return
	}
	var h [32]byte
	if b, err := hex.DecodeString(r.PathValue("token")); err != nil || len(b) != len(h) {
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	} else {
		copy(h[:], b)
	}
	err := biz.RevokeToken(r.Context(), stateOf(r).Account.Name, v.ID, h)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrTokenUsed):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/business/venues/"+url.PathEscape(v.ID)+"#kiosks", http.StatusSeeOther)
}

// qrDataURL returns the QR code of text as a data: URL of a PNG (the
// Content-Security-Policy allows data: images), 8 pixels a module.
func qrDataURL(text string) (template.URL, error) {
	hints := map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_ERROR_CORRECTION: "M", gozxing.EncodeHintType_MARGIN: 4}
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 1, 1, hints)
	if err != nil {
		return "", err
	}
	const scale = 8
	img := image.NewGray(image.Rect(0, 0, m.GetWidth()*scale, m.GetHeight()*scale))
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			c := color.Gray{Y: 0xff}
			if m.Get(x/scale, y/scale) {
				c.Y = 0
			}
			img.SetGray(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())), nil
}
