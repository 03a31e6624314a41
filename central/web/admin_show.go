package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// adminHomePage is the data of admin_home.html.
type adminHomePage struct {
	Applications []store.Venue // waiting for review, oldest first
	Attention    int           // kiosks needing attention
	Kiosks       int
}

// adminShow is the administration's home: the applications waiting for
// review and how many kiosks need attention.
func (wb *Web) adminShow(w http.ResponseWriter, r *http.Request) {
	vs, err := wb.st.Venues(r.Context())
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	var data adminHomePage
	for _, v := range vs {
		if v.Status == registry.StatusApplied {
			data.Applications = append(data.Applications, v)
		}
	}
	slices.SortStableFunc(data.Applications, func(a, b store.Venue) int { return a.Created.Compare(b.Created) })
	if wb.opts.Admin != nil {
		fleet, err := wb.opts.Admin.Fleet(r.Context())
		if err != nil {
			wb.serverError(w, r, err)
			return
		}
		now := wb.now()
		for _, d := range fleet {
			if d.Decommissioned.IsZero() {
				data.Kiosks++
			}
			if len(d.Attention(now)) > 0 {
				data.Attention++
			}
		}
	}
	wb.render(w, r, http.StatusOK, "admin_home", data)
}

// adminVenuesPage is the data of admin_venues.html.
type adminVenuesPage struct {
	Q, Status string
	Statuses  []string
	Venues    []store.Venue
}

// adminVenues searches the venues: q matches the name, the id, the
// business number (with or without dashes) or the address (the area);
// status filters by status.
func (wb *Web) adminVenues(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	status := r.URL.Query().Get("status")
	vs, err := wb.st.Venues(r.Context())
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	data := adminVenuesPage{Q: q, Status: status, Statuses: []string{"applied", "approved", "suspended", "rejected"}}
	for _, v := range vs {
		if status != "" && string(v.Status) != status {
			continue
		}
		if q != "" && !venueMatches(v, q) {
			continue
		}
		data.Venues = append(data.Venues, v)
	}
	wb.render(w, r, http.StatusOK, "admin_venues", data)
}

// venueMatches reports whether q is in the venue's name, id, business
// number or address, ignoring case (and dashes for the number).
func venueMatches(v store.Venue, q string) bool {
	lq := strings.ToLower(q)
	digits := strings.ReplaceAll(q, "-", "")
	return strings.Contains(strings.ToLower(v.Name), lq) || strings.Contains(strings.ToLower(v.ID), lq) ||
		strings.Contains(strings.ToLower(v.Address), lq) ||
		(digits != "" && strings.Contains(strings.ReplaceAll(v.BusinessNumber, "-", ""), digits))
}
