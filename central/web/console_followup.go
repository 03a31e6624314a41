package web

import (
	"encoding/hex"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/anshim/anshim/central/followup"
	"github.com/anshim/anshim/central/store"
)

// The follow-up of a case's contacts in the console (issue 13, items 4
// and 5): the contacts put under follow-up from a trace, their statuses
// with who moved them when, the moves, and the notifications. The
// central does the work (Console.FollowUpContacts, MoveContact,
// NotifyContacts: each audited); the pages read the store.

// followUpRow is one contact under follow-up as the pages show it: no
// identity, the pseudonym only as the form's key.
type followUpRow struct {
	store.FollowUp
	Key   string // the pseudonym, hex: the forms' key, never shown as text
	Venue venueInfo
	Last  store.StatusChange
	Next  []followup.Status
	// CaseID is the console case of the follow-up's case reference (0:
	// none), NewCaseID that of the new case of a positive contact.
	CaseID, NewCaseID uint64
	// Notified is the state of the latest notification ("" when none).
	Notified store.NotificationState
}

// followUpRows returns the rows of fs; notes are the notifications of
// their cases (latest last), cases the console's cases by reference.
func followUpRows(fs []store.FollowUp, venues map[string]venueInfo, notes []store.Notification, cases map[string]uint64) []followUpRow {
	latest := map[string]store.NotificationState{}
	for _, n := range notes {
		latest[n.Case+"/"+hex.EncodeToString(n.Pseudonym[:])] = n.State
	}
	out := make([]followUpRow, 0, len(fs))
	for _, f := range fs {
		key := hex.EncodeToString(f.Pseudonym[:])
		row := followUpRow{FollowUp: f, Key: key, Venue: venueOf(venues, f.Venue), Next: f.Status.Next(),
			CaseID: cases[f.Case], NewCaseID: cases[f.NewCase], Notified: latest[f.Case+"/"+key]}
		if len(f.History) > 0 {
			row.Last = f.History[len(f.History)-1]
		}
		out = append(out, row)
	}
	return out
}

// caseIDs returns the console's cases by reference (open or closed is
// not asked: the open ones, the rest unlinked).
func (wb *Web) caseIDs(r *http.Request) (map[string]uint64, error) {
	cs, err := wb.st.OpenCases(r.Context())
	if err != nil {
		return nil, err
	}
	m := make(map[string]uint64, len(cs))
	for _, c := range cs {
		m[c.Ref] = c.ID
	}
	return m, nil
}

// caseFollowUps returns the rows of the case's follow-ups.
func (wb *Web) caseFollowUps(r *http.Request, c store.Case, venues map[string]venueInfo) ([]followUpRow, error) {
	fs, err := wb.st.CaseFollowUps(r.Context(), c.Ref)
	if err != nil {
		return nil, err
	}
	notes, err := wb.st.Notifications(r.Context(), c.Ref)
	if err != nil {
		return nil, err
	}
	ids, err := wb.caseIDs(r)
	if err != nil {
		return nil, err
	}
	// Follow-ups of the case's earlier traces may name venues this trace
	// does not.
	var missing []string
	for _, f := range fs {
		if _, ok := venues[f.Venue]; !ok && !slices.Contains(missing, f.Venue) {
			missing = append(missing, f.Venue)
		}
	}
	if len(missing) > 0 {
		more, err := wb.venuesOf(r.Context(), missing)
		if err != nil {
			return nil, err
		}
		venues = maps.Clone(venues)
		maps.Copy(venues, more)
	}
	return followUpRows(fs, venues, notes, ids), nil
}

// myFollowUps returns the rows of the follow-ups of the signed-in
// investigator, for the console's first page.
func (wb *Web) myFollowUps(r *http.Request) ([]followUpRow, error) {
	fs, err := wb.st.FollowUpsOf(r.Context(), stateOf(r).Account.Name)
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	vs, err := wb.st.Venues(r.Context())
	if err != nil {
		return nil, err
	}
	var notes []store.Notification
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.Case] {
			continue
		}
		seen[f.Case] = true
		ns, err := wb.st.Notifications(r.Context(), f.Case)
		if err != nil {
			return nil, err
		}
		notes = append(notes, ns...)
	}
	ids, err := wb.caseIDs(r)
	if err != nil {
		return nil, err
	}
	return followUpRows(fs, venueIndex(vs), notes, ids), nil
}

// followUpBack goes back to the case's contacts tab, at the follow-up
// (303), with a notice key.
func followUpBack(w http.ResponseWriter, r *http.Request, c store.Case, trace, done string) {
	q := "tab=contacts&done=" + done
	if trace != "" {
		q += "&trace=" + trace
	}
	http.Redirect(w, r, "/console/cases/"+strconv.FormatUint(c.ID, 10)+"?"+q+"#followup", http.StatusSeeOther)
}

// followUpFail renders the case page with an error: 409 for a refused
// move, 400 for a malformed form, 404 for a contact not under follow-up.
func (wb *Web) followUpFail(w http.ResponseWriter, r *http.Request, c store.Case, err error) {
	status, key := 0, ""
	switch {
	case errors.Is(err, ErrRefused):
		status, key = http.StatusConflict, "console.followup.refused"
	case errors.Is(err, ErrInvalid):
		status, key = http.StatusBadRequest, "console.followup.invalid"
	case errors.Is(err, store.ErrNotFound):
		status, key = http.StatusNotFound, "console.followup.notfound"
	case errors.Is(err, ErrExpired):
		wb.renderError(w, r, http.StatusGone, "console.trace.expired")
		return
	default:
		wb.serverError(w, r, err)
		return
	}
	if tr := wb.consoleTrace(w, r, c, r.PostFormValue("trace")); tr != nil {
		wb.consoleCaseRender(w, r, status, c, tr, "contacts", contactView{}, consoleCasePage{Error: key})
	}
}

// followUpSet reads the set of contacts of a form: "all", "d2" or "v:ID".
func followUpSet(s string) (RevealSet, bool) {
	switch {
	case s == "all" || s == "":
		return RevealSet{}, true
	case len(s) == 2 && s[0] == 'd' && s[1] >= '1' && s[1] <= '4':
		return RevealSet{Degree: int(s[1] - '0')}, true
	case strings.HasPrefix(s, "v:") && len(s) > 2 && len(s) <= 66:
		return RevealSet{Venue: s[2:]}, true
	}
	return RevealSet{}, false
}

// consoleFollowUpAdd puts the trace's contacts of the form's set under
// the investigator's follow-up.
func (wb *Web) consoleFollowUpAdd(w http.ResponseWriter, r *http.Request) {
	c, ok := wb.consoleCaseOf(w, r)
	if !ok {
		return
	}
	sel, ok := followUpSet(strings.TrimSpace(r.PostFormValue("set")))
	if !ok {
		wb.followUpFail(w, r, c, ErrInvalid)
		return
	}
	trace := strings.TrimSpace(r.PostFormValue("trace"))
	if _, err := wb.opts.Console.FollowUpContacts(r.Context(), stateOf(r).Account.Name, c, trace, sel); err != nil {
		wb.followUpFail(w, r, c, err)
		return
	}
	followUpBack(w, r, c, trace, "added")
}

// consoleFollowUpMove moves one contact's status; a positive contact's
// new case opens, and the page goes to it.
func (wb *Web) consoleFollowUpMove(w http.ResponseWriter, r *http.Request) {
	c, ok := wb.consoleCaseOf(w, r)
	if !ok {
		return
	}
	to := strings.TrimSpace(r.PostFormValue("status"))
	newCase := strings.TrimSpace(r.PostFormValue("new_case"))
	if len(newCase) > 128 {
		wb.followUpFail(w, r, c, ErrInvalid)
		return
	}
	_, opened, err := wb.opts.Console.MoveContact(r.Context(), stateOf(r).Account.Name, c, r.PathValue("pseudonym"), to, newCase)
	if err != nil {
		wb.followUpFail(w, r, c, err)
		return
	}
	if opened.ID != 0 {
		http.Redirect(w, r, "/console/cases/"+strconv.FormatUint(opened.ID, 10), http.StatusSeeOther)
		return
	}
	followUpBack(w, r, c, strings.TrimSpace(r.PostFormValue("trace")), "moved")
}

// consoleNotify notifies the selected contacts (the form's "contact"
// boxes), or every to-notify contact of the case when none is selected.
func (wb *Web) consoleNotify(w http.ResponseWriter, r *http.Request) {
	c, ok := wb.consoleCaseOf(w, r)
	if !ok {
		return
	}
	var ps []string
	if r.PostFormValue("all") == "" {
		ps = r.PostForm["contact"]
		if len(ps) == 0 || len(ps) > 10000 {
			wb.followUpFail(w, r, c, ErrInvalid)
			return
		}
	}
	if _, err := wb.opts.Console.NotifyContacts(r.Context(), stateOf(r).Account.Name, c, ps); err != nil {
		wb.followUpFail(w, r, c, err)
		return
	}
	followUpBack(w, r, c, strings.TrimSpace(r.PostFormValue("trace")), "notified")
}
