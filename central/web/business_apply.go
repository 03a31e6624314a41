package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/form"
)

// businessFormPage is the data of business_apply.html and
// business_edit.html: the form as typed and each bad field's message key.
type businessFormPage struct {
	Venue      store.Venue // the venue edited (business_edit)
	Form       form.Venue
	Errors     map[string]string
	Categories []registry.Category
}

// businessApplyShow shows the application form.
func (wb *Web) businessApplyShow(w http.ResponseWriter, r *http.Request) {
	wb.render(w, r, http.StatusOK, "business_apply", businessFormPage{Categories: registry.Categories()})
}

// venueIDOf is the id a venue applied for with business number n
// (NNN-NN-NNNNN) gets: "b" and its ten digits. Business numbers are
// unique among venues, so ids are too.
func venueIDOf(n string) string { return "b" + strings.ReplaceAll(n, "-", "") }

// businessApplySubmit registers the application as an applied venue of
// the account and goes to its page (303). Bad fields are 400 with each
// error beside its field; a business number already registered is 409.
func (wb *Web) businessApplySubmit(w http.ResponseWriter, r *http.Request) {
	biz, ok := wb.business(w, r)
	if !ok {
		return
	}
	f := form.NewVenue(r)
	data := businessFormPage{Form: f, Categories: registry.Categories()}
	id := "b0"
	if n, err := registry.ParseBusinessNumber(f.BusinessNumber); err == nil {
		id = venueIDOf(n)
	}
	reg, errs := f.Validate(id)
	if len(errs) > 0 {
		data.Errors = errs
		wb.render(w, r, http.StatusBadRequest, "business_apply", data)
		return
	}
	acct := stateOf(r).Account
	v, err := biz.ApplyVenue(r.Context(), acct.Name, reg)
	switch {
	case errors.Is(err, store.ErrExists):
		data.Errors = map[string]string{"business_number": "venue.err.business_number.taken"}
		wb.render(w, r, http.StatusConflict, "business_apply", data)
		return
	case err != nil:
		if errs := form.RegistryErrors(err); len(errs) > 0 { // the central's own check
			data.Errors = errs
			wb.render(w, r, http.StatusBadRequest, "business_apply", data)
			return
		}
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/business/venues/"+url.PathEscape(v.ID)+"?applied=1", http.StatusSeeOther)
}
