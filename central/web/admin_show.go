package web

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// adminHomePage is the data of admin_home.html.
type adminHomePage struct {
	Applications []store.Venue // waiting for review, oldest first
	Attention    int           // kiosks needing attention
	Kiosks       int
	CanBackup    bool // the store is bbolt: /admin/backup gives a copy
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
		data.CanBackup = wb.opts.Admin.CanBackup()
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

// adminBackup answers a download of a consistent copy of a bbolt store
// (the central's Backup, audited); 409 with what to use instead on
// PostgreSQL. An error after the first byte cuts the connection, so that
// the browser reports a failed download, not a short file.
func (wb *Web) adminBackup(w http.ResponseWriter, r *http.Request) {
	if wb.opts.Admin == nil || !wb.opts.Admin.CanBackup() {
		wb.renderError(w, r, http.StatusConflict, "admin.backup.postgres")
		return
	}
	started := false
	_, err := wb.opts.Admin.Backup(r.Context(), stateOf(r).Account.Name, func(size int64) io.Writer {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+store.BackupName(wb.now())+`"`)
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		started = true
		return w
	})
	if err != nil {
		if !started {
			wb.serverError(w, r, err)
			return
		}
		wb.log.Error("web: backup download cut short", "err", err)
		panic(http.ErrAbortHandler)
	}
}
