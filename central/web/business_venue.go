package web

import (
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// ChartDays is how many days of check-in counts a venue's page charts.
const ChartDays = 28

// businessVenuePage is the data of business_venue.html.
type businessVenuePage struct {
	Venue    store.Venue
	Approved bool
	Applied  bool // just applied for
	Saved    bool // just edited
	Tokens   []tokenRow
	Kiosks   []Kiosk
	Chart    chart
	// NewToken is a token just issued: its only showing.
	NewToken *NewToken
	TokenQR  template.URL // its QR code, a data: URL of a PNG
	Now      time.Time
}

// tokenRow is an enrollment token as the venue's page lists it.
type tokenRow struct {
	ID      string // the first 8 hex digits of its hash
	Hash    string // its hash, hex: the revoke form's
	Expires time.Time
	Used    bool
	Expired bool
}

// businessVenueShow shows a venue to its owner: its details and status,
// and once approved its poster, enrollment tokens, kiosks and daily
// check-in counts.
func (wb *Web) businessVenueShow(w http.ResponseWriter, r *http.Request) {
	v, ok := wb.ownedVenue(w, r)
	if !ok {
		return
	}
	data, err := wb.venuePageData(r, v)
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	data.Applied = r.URL.Query().Get("applied") != ""
	data.Saved = r.URL.Query().Get("saved") != ""
	wb.render(w, r, http.StatusOK, "business_venue", data)
}

// venuePageData gathers what business_venue.html shows of v.
func (wb *Web) venuePageData(r *http.Request, v store.Venue) (businessVenuePage, error) {
	now := wb.now()
	data := businessVenuePage{Venue: v, Approved: v.Status == registry.StatusApproved, Now: now}
	biz := wb.opts.Business
	if biz == nil {
		return data, nil
	}
	ctx := r.Context()
	tokens, err := biz.Tokens(ctx, v.ID)
	if err != nil {
		return data, fmt.Errorf("venue page %s: %w", v.ID, err)
	}
	for _, t := range tokens {
		data.Tokens = append(data.Tokens, tokenRow{ID: hex.EncodeToString(t.Hash[:4]), Hash: hex.EncodeToString(t.Hash[:]),
			Expires: t.Expires, Used: t.Used, Expired: !now.Before(t.Expires)})
	}
	if data.Kiosks, err = biz.Kiosks(ctx, v.ID); err != nil {
		return data, fmt.Errorf("venue page %s: %w", v.ID, err)
	}
	counts, err := biz.DailyCheckIns(ctx, v.ID, ChartDays)
	if err != nil {
		return data, fmt.Errorf("venue page %s: %w", v.ID, err)
	}
	data.Chart = drawChart(counts)
	return data, nil
}
