package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/trace"
	"github.com/anshim/anshim/central/tracegraph"
	"github.com/anshim/anshim/central/web/form"
)

// consoleCasePage is the data of console_case.html: one trace of a case
// in the view asked for (timeline, contacts, venues, graph).
type consoleCasePage struct {
	Case     store.Case
	Traces   []store.CaseTrace
	Trace    *CaseTrace
	Tab      string
	Timeline []stayRow
	Contacts []contactRow
	Total    int // contacts the table's filters keep
	All      int // contacts of the trace
	View     contactView
	Pages    []int
	Venues   []venueRow
	Degrees  []int
	Sorts    []string // the contacts table's orders
	// Revealed and Leaf are set on the answer to a reveal only.
	Revealed bool
	Leaf     int64
	Error    string
	// Graph is the trace's contact graph (central/tracegraph: escaped
	// SVG, no script or style), on the graph tab only.
	Graph template.HTML
	// FollowUps are the case's contacts under follow-up
	// (console_followup.go), on the contacts tab; Done the notice of the
	// follow-up form just sent ("added", "moved", "notified" or "").
	FollowUps []followUpRow
	Done      string
	// FromID is the console case of Trace.FromCase (0: none open).
	FromID uint64
}

// Link returns the link of the page's view with one parameter changed.
func (p consoleCasePage) Link(key, value string) string {
	q := url.Values{}
	q.Set("trace", p.Trace.ID)
	q.Set("tab", p.Tab)
	if p.View.Degree != 0 {
		q.Set("degree", strconv.Itoa(p.View.Degree))
	}
	for k, v := range map[string]string{"venue": p.View.Venue, "day": p.View.Day, "sort": p.View.Sort} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if key != "page" {
		q.Del("page")
	}
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	return "/console/cases/" + strconv.FormatUint(p.Case.ID, 10) + "?" + q.Encode()
}

// consoleCaseOf returns the case of the request's {id}, or answers 404 or
// 500 and returns false.
func (wb *Web) consoleCaseOf(w http.ResponseWriter, r *http.Request) (store.Case, bool) {
	if wb.opts.Console == nil {
		wb.serverError(w, r, errors.New("no Console in the web's options"))
		return store.Case{}, false
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return store.Case{}, false
	}
	c, err := wb.st.Case(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return store.Case{}, false
	case err != nil:
		wb.serverError(w, r, err)
		return store.Case{}, false
	}
	return c, true
}

// consoleTrace returns the case's trace asked for (?trace= or the form's
// trace), or answers and returns nil.
func (wb *Web) consoleTrace(w http.ResponseWriter, r *http.Request, c store.Case, id string) *CaseTrace {
	tr, err := wb.opts.Console.CaseTrace(r.Context(), stateOf(r).Account.Name, c, id)
	switch {
	case errors.Is(err, ErrExpired):
		wb.renderError(w, r, http.StatusGone, "console.trace.expired")
		return nil
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return nil
	case err != nil:
		wb.serverError(w, r, err)
		return nil
	}
	return tr
}

// consoleCase shows a trace of a case: the case's timeline, the contacts
// table (filtered by degree, venue and day, sorted, paged), the
// per-venue summary or the graph, by ?tab=.
func (wb *Web) consoleCase(w http.ResponseWriter, r *http.Request) {
	c, ok := wb.consoleCaseOf(w, r)
	if !ok {
		return
	}
	tr := wb.consoleTrace(w, r, c, r.URL.Query().Get("trace"))
	if tr == nil {
		return
	}
	q := r.URL.Query()
	v := contactView{Venue: q.Get("venue"), Day: q.Get("day"), Sort: q.Get("sort")}
	v.Degree, _ = strconv.Atoi(q.Get("degree"))
	v.Page, _ = strconv.Atoi(q.Get("page"))
	p := consoleCasePage{}
	switch d := q.Get("done"); d {
	case "added", "moved", "notified":
		p.Done = d
	}
	wb.consoleCaseRender(w, r, http.StatusOK, c, tr, q.Get("tab"), v, p)
}

// consoleCaseRender renders the case page of tr; p carries a reveal's
// answer or an error.
func (wb *Web) consoleCaseRender(w http.ResponseWriter, r *http.Request, status int, c store.Case, tr *CaseTrace, tab string, v contactView, p consoleCasePage) {
	traces, err := wb.st.CaseTraces(r.Context(), c.ID)
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	venues, err := wb.venuesOf(r.Context(), traceVenueIDs(tr.Result)) // once, not per row
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	switch tab {
	case "timeline", "contacts", "venues", "graph":
	default:
		tab = "contacts"
	}
	res := filtered(tr)
	p.Case, p.Traces, p.Trace, p.Tab, p.View = c, traces, tr, tab, v
	p.Sorts = []string{"exposed", "degree", "venue", "minutes"}
	p.All = len(res.Contacts)
	p.Timeline = timeline(res, venues)
	p.Contacts, p.Total = contactRows(res, venues, v)
	p.Venues = venueSummary(res, venues)
	for d := 1; d <= res.Degree; d++ {
		p.Degrees = append(p.Degrees, d)
	}
	for i := 1; i <= (p.Total+ConsolePageSize-1)/ConsolePageSize; i++ {
		p.Pages = append(p.Pages, i)
	}
	if p.View.Page < 1 {
		p.View.Page = 1
	}
	if tab == "contacts" {
		if p.FollowUps, err = wb.caseFollowUps(r, c, venues); err != nil {
			wb.serverError(w, r, err)
			return
		}
	}
	if tr.FromCase != "" {
		ids, err := wb.caseIDs(r)
		if err != nil {
			wb.serverError(w, r, err)
			return
		}
		p.FromID = ids[tr.FromCase]
	}
	if tab == "graph" {
		if p.Graph, err = caseGraph(r, res, venues, "case-graph"); err != nil {
			wb.serverError(w, r, err)
			return
		}
	}
	wb.render(w, r, status, "console_case", p)
}

// consoleReveal shows the names and phone numbers of the chosen contacts
// on its answer, once (no redirect), after the central wrote the audit
// event, whose ledger index the page shows.
func (wb *Web) consoleReveal(w http.ResponseWriter, r *http.Request) {
	c, ok := wb.consoleCaseOf(w, r)
	if !ok {
		return
	}
	f := form.NewConsoleReveal(r)
	degree, venue, err := f.Validate()
	if err != nil {
		var fe *form.FieldError
		errors.As(err, &fe)
		tr := wb.consoleTrace(w, r, c, f.Trace)
		if tr != nil {
			wb.consoleCaseRender(w, r, http.StatusBadRequest, c, tr, "contacts", contactView{}, consoleCasePage{Error: fe.Key})
		}
		return
	}
	tr, leaf, err := wb.opts.Console.Reveal(r.Context(), stateOf(r).Account.Name, c, f.Trace, RevealSet{Degree: degree, Venue: venue}, f.Reason)
	switch {
	case errors.Is(err, ErrInvalid):
		if tr := wb.consoleTrace(w, r, c, f.Trace); tr != nil {
			wb.consoleCaseRender(w, r, http.StatusBadRequest, c, tr, "contacts", contactView{}, consoleCasePage{Error: "console.reveal.reason.invalid"})
		}
		return
	case errors.Is(err, ErrExpired):
		wb.renderError(w, r, http.StatusGone, "console.trace.expired")
		return
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	wb.consoleCaseRender(w, r, http.StatusOK, c, tr, "contacts", contactView{Degree: degree, Venue: venue},
		consoleCasePage{Revealed: true, Leaf: leaf})
}

// consoleClose closes a case (it leaves the list; its traces are kept)
// and goes back to the list (303).
func (wb *Web) consoleClose(w http.ResponseWriter, r *http.Request) {
	c, ok := wb.consoleCaseOf(w, r)
	if !ok {
		return
	}
	who := stateOf(r).Account.Name
	if _, err := wb.st.CloseCase(r.Context(), c.ID, who, wb.now().UTC()); err != nil {
		wb.serverError(w, r, err)
		return
	}
	wb.audit(r.Context(), "case-closed", who, `{"case":`+strconv.FormatUint(c.ID, 10)+`}`)
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// caseGraph draws the contact graph of res (central/tracegraph) in the
// request's language, its <title> and <desc> ids starting with prefix.
func caseGraph(r *http.Request, res *trace.Result, venues map[string]venueInfo, prefix string) (template.HTML, error) {
	var b bytes.Buffer
	name := func(id string) string { return venues[id].Name }
	if err := tracegraph.Render(&b, res, &tracegraph.Options{VenueName: name, Lang: stateOf(r).P.Lang(), IDPrefix: prefix}); err != nil {
		return "", fmt.Errorf("contact graph: %w", err)
	}
	return template.HTML(b.String()), nil // every label escaped by tracegraph
}
