package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/anshim/anshim/central/store"
)

// clerkVisitorPage is the data of clerk_visitor.html.
type clerkVisitorPage struct {
	Visitor Visitor
	// Registered is "new" just after the registration, "already" when
	// the number was registered before.
	Registered string
	// Printed is the card just issued (0: none) and Revoked the cards it
	// replaced.
	Printed uint32
	Revoked []uint32
}

// visitorOf returns the visitor of the request's {id}, or answers 404
// (also for a destroyed identity, which says so) or 500 and returns
// false.
func (wb *Web) visitorOf(w http.ResponseWriter, r *http.Request) (Clerk, Visitor, bool) {
	ops := wb.clerkOps(w, r)
	if ops == nil {
		return nil, Visitor{}, false
	}
	v, err := ops.Visitor(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrDestroyed):
		wb.renderError(w, r, http.StatusNotFound, "admin.person.gone")
		return nil, Visitor{}, false
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return nil, Visitor{}, false
	case err != nil:
		wb.serverError(w, r, err)
		return nil, Visitor{}, false
	}
	return ops, v, true
}

// clerkVisitor shows a visitor as a clerk may see them (their initial,
// their number masked, their cards) with the button that prints a new
// card and, after it, the card's PDF to download.
func (wb *Web) clerkVisitor(w http.ResponseWriter, r *http.Request) {
	_, v, ok := wb.visitorOf(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	p := clerkVisitorPage{Visitor: v}
	switch q.Get("registered") {
	case "new", "already":
		p.Registered = q.Get("registered")
	}
	if n, err := strconv.ParseUint(q.Get("printed"), 10, 32); err == nil {
		p.Printed = uint32(n)
	}
	for _, s := range strings.Split(q.Get("revoked"), ",") {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil && n > 0 {
			p.Revoked = append(p.Revoked, uint32(n))
		}
	}
	wb.render(w, r, http.StatusOK, "clerk_visitor", p)
}
