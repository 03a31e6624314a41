package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/form"
)

// consoleHomePage is the data of console_home.html: the open cases and
// the form opening one.
type consoleHomePage struct {
	Cases []store.Case
	Form  form.Case // typed again after an error, never the phone number
	Error string
	// Degrees are the degrees a trace may follow: 1 to 4.
	Degrees []int
	// FollowUps are the signed-in investigator's contacts under
	// follow-up (console_followup.go), first on the page.
	FollowUps []followUpRow
}

// consoleHome lists the open cases and the form opening a case.
func (wb *Web) consoleHome(w http.ResponseWriter, r *http.Request) {
	wb.consoleHomeRender(w, r, http.StatusOK, consoleHomePage{Form: form.Case{Degree: "2"}})
}

func (wb *Web) consoleHomeRender(w http.ResponseWriter, r *http.Request, status int, p consoleHomePage) {
	cases, err := wb.st.OpenCases(r.Context())
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	p.Cases, p.Degrees = cases, []int{1, 2, 3, 4}
	if p.FollowUps, err = wb.myFollowUps(r); err != nil {
		wb.serverError(w, r, err)
		return
	}
	wb.render(w, r, status, "console_home", p)
}

// consoleOpen opens a case (its trace runs, is saved and audited) and
// goes to its page (303).
func (wb *Web) consoleOpen(w http.ResponseWriter, r *http.Request) {
	if wb.opts.Console == nil {
		wb.serverError(w, r, errors.New("no Console in the web's options"))
		return
	}
	f := form.NewCase(r)
	again := func(status int, key string) {
		f.Phone = ""
		wb.consoleHomeRender(w, r, status, consoleHomePage{Form: f, Error: key})
	}
	v, err := f.Validate()
	if err != nil {
		var fe *form.FieldError
		errors.As(err, &fe)
		again(http.StatusBadRequest, fe.Key)
		return
	}
	c, err := wb.opts.Console.OpenCase(r.Context(), stateOf(r).Account.Name, CaseRequest{CaseRef: f.CaseRef,
		Phone: f.Phone, Person: f.Person, Onset: v.Onset, Tested: v.Tested, Asymptomatic: f.Asymptomatic,
		Degree: v.Degree, Venue: f.Venue, From: v.From, To: v.To})
	switch {
	case errors.Is(err, ErrInvalid):
		again(http.StatusBadRequest, "console.form.invalid")
		return
	case errors.Is(err, store.ErrNotFound):
		again(http.StatusNotFound, "console.form.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/cases/"+strconv.FormatUint(c.ID, 10), http.StatusSeeOther)
}
