package web

import (
	"errors"
	"net/http"
)

// clerkPage is the data of clerk_home.html: the registration of a new
// visitor and the search of a registered one. The number typed is never
// shown back; the name is, after an error.
type clerkPage struct {
	Name  string
	Error string // a catalogue key
	Field string // the field it is about: "name", "phone" or "find"
}

// clerkOps returns the central's side of the clerks' pages, or answers
// 500 and returns nil.
func (wb *Web) clerkOps(w http.ResponseWriter, r *http.Request) Clerk {
	if wb.opts.Clerk == nil {
		wb.serverError(w, r, errors.New("no Clerk in the web's options"))
	}
	return wb.opts.Clerk
}

// clerkHome is a clerk's first page: register a visitor by name and phone
// number, or find one by number, to print their card.
func (wb *Web) clerkHome(w http.ResponseWriter, r *http.Request) {
	wb.render(w, r, http.StatusOK, "clerk_home", clerkPage{})
}
