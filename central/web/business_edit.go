package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/web/form"
)

// businessEditShow shows the form of a venue's editable details.
func (wb *Web) businessEditShow(w http.ResponseWriter, r *http.Request) {
	v, ok := wb.ownedVenue(w, r)
	if !ok {
		return
	}
	f := form.Venue{Name: v.Name, Address: v.Address, Category: string(v.Category)}
	if v.DefaultStay != 0 {
		f.DefaultStay = strconv.Itoa(v.DefaultStay)
	}
	wb.render(w, r, http.StatusOK, "business_edit", businessFormPage{Venue: v, Form: f, Categories: registry.Categories()})
}

// businessEditSubmit stores the edited details (an audit event) and goes
// back to the venue's page (303); bad fields are 400 with the form again.
func (wb *Web) businessEditSubmit(w http.ResponseWriter, r *http.Request) {
	v, ok := wb.ownedVenue(w, r)
	if !ok {
		return
	}
	biz, ok := wb.business(w, r)
	if !ok {
		return
	}
	f := form.NewVenueEdit(r)
	data := businessFormPage{Venue: v, Form: form.Venue{Name: f.Name, Address: f.Address, Category: f.Category, DefaultStay: f.DefaultStay},
		Categories: registry.Categories()}
	d, errs := f.Validate(v)
	if len(errs) > 0 {
		data.Errors = errs
		wb.render(w, r, http.StatusBadRequest, "business_edit", data)
		return
	}
	_, err := biz.EditVenue(r.Context(), stateOf(r).Account.Name, v.ID, d)
	if errs := form.RegistryErrors(err); len(errs) > 0 {
		data.Errors = errs
		wb.render(w, r, http.StatusBadRequest, "business_edit", data)
		return
	}
	var te *registry.TransitionError
	if err != nil && !errors.As(err, &te) {
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/business/venues/"+url.PathEscape(v.ID)+"?saved=1", http.StatusSeeOther)
}
