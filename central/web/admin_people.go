package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/form"
)

// adminPeoplePage is the data of admin_people.html: the search by phone
// number. The number typed is never shown back.
type adminPeoplePage struct {
	Error string
}

// adminPeople shows the search of a visitor by phone number.
func (wb *Web) adminPeople(w http.ResponseWriter, r *http.Request) {
	wb.render(w, r, http.StatusOK, "admin_people", adminPeoplePage{})
}

// adminPeopleSearch finds the visitor registered with the posted phone
// number (a POST, so that the number is in no address, history or log)
// and goes to their page (303); a number that is none (400) or that no
// one is registered with (404) shows the search again.
func (wb *Web) adminPeopleSearch(w http.ResponseWriter, r *http.Request) {
	if wb.opts.Admin == nil {
		wb.serverError(w, r, errors.New("no Admin in the web's options"))
		return
	}
	p, err := wb.opts.Admin.FindPerson(r.Context(), r.PostFormValue("phone"))
	switch {
	case errors.Is(err, ErrInvalid):
		wb.render(w, r, http.StatusBadRequest, "admin_people", adminPeoplePage{Error: "form.phone.invalid"})
		return
	case errors.Is(err, store.ErrNotFound):
		wb.render(w, r, http.StatusNotFound, "admin_people", adminPeoplePage{Error: "admin.people.notfound"})
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/people/"+p.ID, http.StatusSeeOther)
}

// adminPersonPage is the data of admin_person.html.
type adminPersonPage struct {
	Person   Person
	Identity *Identity // revealed: shown once, on the answer to the reveal
	CaseRef  string    // the reveal form's, typed again after an error
	Reason   string
	Revoked  uint32 // the card just revoked (0: none)
	Error    string
}

// person returns the visitor of the request's {id}, or answers 404 (also
// for a destroyed identity, which says so) or 500 and returns false.
func (wb *Web) person(w http.ResponseWriter, r *http.Request) (Person, bool) {
	if wb.opts.Admin == nil {
		wb.serverError(w, r, errors.New("no Admin in the web's options"))
		return Person{}, false
	}
	p, err := wb.opts.Admin.Person(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrDestroyed):
		wb.renderError(w, r, http.StatusNotFound, "admin.person.gone")
		return Person{}, false
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return Person{}, false
	case err != nil:
		wb.serverError(w, r, err)
		return Person{}, false
	}
	return p, true
}

// adminPerson shows a visitor: their pseudonymous id, account state and
// card passes, a form to reveal their identity and one to revoke each
// valid card.
func (wb *Web) adminPerson(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.person(w, r)
	if !ok {
		return
	}
	revoked, _ := strconv.ParseUint(r.URL.Query().Get("revoked"), 10, 32)
	wb.render(w, r, http.StatusOK, "admin_person", adminPersonPage{Person: p, Revoked: uint32(revoked)})
}

// adminPersonReveal shows the visitor's name and phone number on its
// answer, once (no redirect: the page is not stored, and reloading it
// asks again), after the central wrote the audit event naming the
// account, the case and the reason.
func (wb *Web) adminPersonReveal(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.person(w, r)
	if !ok {
		return
	}
	f := form.NewReveal(r)
	again := func(key string) {
		wb.render(w, r, http.StatusBadRequest, "admin_person", adminPersonPage{Person: p, CaseRef: f.CaseRef, Reason: f.Reason, Error: key})
	}
	if err := f.Validate(); err != nil {
		var fe *form.FieldError
		errors.As(err, &fe)
		again(fe.Key)
		return
	}
	id, err := wb.opts.Admin.RevealPerson(r.Context(), stateOf(r).Account.Name, p.ID, f.CaseRef, f.Reason)
	switch {
	case errors.Is(err, ErrInvalid):
		again("admin.person.reason.invalid")
		return
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "admin.person.gone")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	wb.render(w, r, http.StatusOK, "admin_person", adminPersonPage{Person: p, Identity: &id})
}

// adminPersonRevoke revokes a card pass of the visitor (kiosks refuse it
// within seconds) and goes back to their page (303).
func (wb *Web) adminPersonRevoke(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.person(w, r)
	if !ok {
		return
	}
	serial, err := strconv.ParseUint(r.PathValue("serial"), 10, 32)
	if err != nil || serial == 0 {
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	err = wb.opts.Admin.RevokeCard(r.Context(), stateOf(r).Account.Name, p.ID, uint32(serial))
	switch {
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/people/"+p.ID+"?revoked="+strconv.FormatUint(serial, 10), http.StatusSeeOther)
}
