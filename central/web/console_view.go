package web

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/trace"
)

// ConsolePageSize is how many contacts a page of the contacts table
// shows.
const ConsolePageSize = 100

// venueInfo is what the console shows of a venue: loaded once per page
// (store.Venues), never per row.
type venueInfo struct{ ID, Name, Address, Category string }

// venueIndex returns the venues by id.
func venueIndex(vs []store.Venue) map[string]venueInfo {
	m := make(map[string]venueInfo, len(vs))
	for _, v := range vs {
		m[v.ID] = venueInfo{ID: v.ID, Name: v.Name, Address: v.Address, Category: string(v.Category)}
	}
	return m
}

// venueOf returns the venue of id, its id as its name when unknown.
func venueOf(m map[string]venueInfo, id string) venueInfo {
	if v, ok := m[id]; ok {
		return v
	}
	return venueInfo{ID: id, Name: id}
}

// flagKeys returns the catalogue keys of a stay's flags in words.
func flagKeys(s trace.Stay) []string {
	var out []string
	if s.Flags&store.FlagSuspect != 0 {
		out = append(out, "console.flag.suspect")
	}
	if s.Flags&store.FlagAfterBreak != 0 {
		out = append(out, "console.flag.break")
	}
	if s.Flagged && s.Flags&^(store.FlagSuspect|store.FlagAfterBreak|store.FlagUncorrected) != 0 {
		out = append(out, "console.flag.other")
	}
	return out
}

// flagKeysAll are every key flagKeys returns (a test checks each is in
// the catalogues).
var flagKeysAll = []string{"console.flag.suspect", "console.flag.break", "console.flag.other"}

// stayRow is a line of the timeline.
type stayRow struct {
	Day, In, Out string
	Venue        venueInfo
	Exit         bool
	Flags        []string
}

// contactRow is a line of the contacts table.
type contactRow struct {
	Ref         string
	Degree      int
	Name, Phone string
	Venue       venueInfo
	Day         string
	From, To    string // the overlap window, KST clock
	Minutes     int
	Path        string
	Flags       []string
}

// venueRow is a line of the per-venue summary.
type venueRow struct {
	Venue    venueInfo
	Case     bool // the case stayed there
	Contacts int
	Days     []string
}

func kstDay(t time.Time) string   { return t.In(kst).Format("2006-01-02") }
func kstClock(t time.Time) string { return t.In(kst).Format("15:04") }

// timeline returns the case's own stays.
func timeline(res *trace.Result, vs map[string]venueInfo) []stayRow {
	out := make([]stayRow, 0, len(res.Case))
	for _, s := range res.Case {
		out = append(out, stayRow{Day: kstDay(s.Start), In: kstClock(s.Start), Out: kstClock(s.End),
			Venue: venueOf(vs, s.Venue), Exit: s.Exit, Flags: flagKeys(s)})
	}
	return out
}

// contactView is the contacts table's filters, sort and page.
type contactView struct {
	Degree int    // 0: all
	Venue  string // "": all
	Day    string // "": all
	Sort   string // "exposed" (default), "degree", "venue", "minutes"
	Page   int    // from 1; -1: every contact
}

// contactRows returns the contacts that v keeps, sorted, the page's and
// how many in all.
func contactRows(res *trace.Result, vs map[string]venueInfo, v contactView) ([]contactRow, int) {
	var rows []contactRow
	for _, c := range res.Contacts {
		if v.Degree != 0 && c.Degree != v.Degree || v.Venue != "" && c.Venue != v.Venue || v.Day != "" && kstDay(c.Exposed) != v.Day {
			continue
		}
		refs := make([]string, len(c.Path))
		for i, h := range c.Path {
			refs[i] = h.Ref
		}
		if len(refs) > 0 && refs[0] == trace.CaseRef {
			refs[0] = "★"
		}
		end := c.Exposed.Add(time.Duration(c.OverlapMinutes) * time.Minute)
		fl := flagKeys(c.Stay)
		for _, k := range flagKeys(c.Source) {
			if !slices.Contains(fl, k) {
				fl = append(fl, k)
			}
		}
		rows = append(rows, contactRow{Ref: c.Ref, Degree: c.Degree, Name: c.Name, Phone: c.Phone,
			Venue: venueOf(vs, c.Venue), Day: kstDay(c.Exposed), From: kstClock(c.Exposed), To: kstClock(end),
			Minutes: c.OverlapMinutes, Path: strings.Join(refs, " → "), Flags: fl})
	}
	switch v.Sort {
	case "degree":
		slices.SortStableFunc(rows, func(a, b contactRow) int { return cmp.Compare(a.Degree, b.Degree) })
	case "venue":
		slices.SortStableFunc(rows, func(a, b contactRow) int { return cmp.Compare(a.Venue.Name, b.Venue.Name) })
	case "minutes":
		slices.SortStableFunc(rows, func(a, b contactRow) int { return cmp.Compare(b.Minutes, a.Minutes) })
	}
	n := len(rows)
	if v.Page < 0 {
		return rows, n
	}
	start := (max(v.Page, 1) - 1) * ConsolePageSize
	if start >= n {
		return nil, n
	}
	return rows[start:min(n, start+ConsolePageSize)], n
}

// venueSummary returns each venue of a stay of the case or of a contact:
// how many contacts were exposed there and on which days, the case's
// venues first.
func venueSummary(res *trace.Result, vs map[string]venueInfo) []venueRow {
	idx := map[string]int{}
	var out []venueRow
	at := func(id string) *venueRow {
		i, ok := idx[id]
		if !ok {
			i = len(out)
			idx[id] = i
			out = append(out, venueRow{Venue: venueOf(vs, id)})
		}
		return &out[i]
	}
	addDay := func(r *venueRow, d string) {
		if !slices.Contains(r.Days, d) {
			r.Days = append(r.Days, d)
		}
	}
	for _, s := range res.Case {
		r := at(s.Venue)
		r.Case = true
		addDay(r, kstDay(s.Start))
	}
	for _, c := range res.Contacts {
		r := at(c.Venue)
		r.Contacts++
		addDay(r, kstDay(c.Exposed))
	}
	for i := range out {
		slices.Sort(out[i].Days)
	}
	return out
}

// filtered returns tr's result with the contacts its venue and time
// filters keep.
func filtered(tr *CaseTrace) *trace.Result {
	if tr.Venue == "" && tr.From.IsZero() && tr.To.IsZero() {
		return tr.Result
	}
	out := *tr.Result
	out.Contacts = nil
	for _, c := range tr.Result.Contacts {
		if tr.Venue != "" && c.Venue != tr.Venue || !tr.From.IsZero() && c.Exposed.Before(tr.From) || !tr.To.IsZero() && !c.Exposed.Before(tr.To) {
			continue
		}
		out.Contacts = append(out.Contacts, c)
	}
	return &out
}

// venueLookup is a store's read of chosen venues by id (PostgreSQL's):
// a province has tens of thousands of venues, a case page names a few
// hundred.
type venueLookup interface {
	VenuesByID(ctx context.Context, ids []string) ([]store.Venue, error)
}

// venuesOf returns the venues of ids by id: read by id when the store can,
// every venue otherwise (bbolt reads them in-process).
func (wb *Web) venuesOf(ctx context.Context, ids []string) (map[string]venueInfo, error) {
	if vl, ok := wb.st.(venueLookup); ok {
		vs, err := vl.VenuesByID(ctx, ids)
		return venueIndex(vs), err
	}
	vs, err := wb.st.Venues(ctx)
	return venueIndex(vs), err
}

// traceVenueIDs returns the venues a trace names: the case's stays, the
// contacts' stays and sources, the hops of their paths.
func traceVenueIDs(res *trace.Result) []string {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, s := range res.Case {
		add(s.Venue)
	}
	for _, c := range res.Contacts {
		add(c.Venue)
		add(c.Stay.Venue)
		add(c.Source.Venue)
		for _, h := range c.Path {
			add(h.Venue)
		}
	}
	return ids
}
