package web

import (
	"slices"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/locale"
)

// Ensure that a kiosk needs attention exactly when it has not reported
// for over an hour, has over 1,000 records or a record over a day old
// waiting, an unsynced clock, quarantined records or a fork alert, and
// that a decommissioned kiosk never does.
func TestFleetDevice_Attention(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ok := FleetDevice{ID: "k-1", LastSeen: now.Add(-59 * time.Minute), Backlog: 1000, OldestUnsynced: now.Add(-24 * time.Hour), Clock: "ntp-synced"}
	for _, tc := range []struct {
		name string
		edit func(*FleetDevice)
		want []string
	}{
		{"healthy at every limit", func(*FleetDevice) {}, nil},
		{"rtc clock is fine", func(d *FleetDevice) { d.Clock = "rtc" }, nil},
		{"never seen", func(d *FleetDevice) { d.LastSeen = time.Time{} }, []string{"admin.fleet.attn.unseen"}},
		{"unseen for 61 minutes", func(d *FleetDevice) { d.LastSeen = now.Add(-61 * time.Minute) }, []string{"admin.fleet.attn.unseen"}},
		{"backlog 1001", func(d *FleetDevice) { d.Backlog = 1001 }, []string{"admin.fleet.attn.backlog"}},
		{"oldest over a day", func(d *FleetDevice) { d.OldestUnsynced = now.Add(-25 * time.Hour) }, []string{"admin.fleet.attn.oldest"}},
		{"clock unsynced", func(d *FleetDevice) { d.Clock = "unsynced" }, []string{"admin.fleet.attn.clock"}},
		{"quarantine", func(d *FleetDevice) { d.Quarantined = 1 }, []string{"admin.fleet.attn.quarantine"}},
		{"fork", func(d *FleetDevice) { d.LedgerAlert = true }, []string{"admin.fleet.attn.fork"}},
		{"everything", func(d *FleetDevice) {
			d.LastSeen, d.Backlog, d.OldestUnsynced, d.Clock, d.Quarantined, d.LedgerAlert = time.Time{}, 5000, now.Add(-48*time.Hour), "unsynced", 3, true
		}, attentionKeys},
		{"decommissioned", func(d *FleetDevice) { d.LastSeen, d.LedgerAlert, d.Decommissioned = time.Time{}, true, now }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.edit(&d)
			if got := d.Attention(now); !slices.Equal(got, tc.want) {
				t.Errorf("Attention = %q, want %q", got, tc.want)
			}
		})
	}
	for _, lang := range locale.Languages {
		p := locale.NewPrinter(lang)
		for _, k := range attentionKeys {
			if got := p.T(k); got == k || got == "" {
				t.Errorf("%s: no message for %s", lang, k)
			}
		}
	}
}

// Ensure that venueMatches finds a venue by part of its name (any case),
// id, address, or business number with or without dashes.
func TestVenueMatches(t *testing.T) {
	v := store.Venue{ID: "v-cafe-1", Name: "Cafe Halla", BusinessNumber: "123-45-67891", Address: "제주시 중앙로 1"}
	for q, want := range map[string]bool{"halla": true, "CAFE": true, "v-cafe": true, "중앙로": true, "1234567891": true,
		"123-45": true, "999": false, "bakery": false} {
		if got := venueMatches(v, q); got != want {
			t.Errorf("venueMatches(%q) = %v, want %v", q, got, want)
		}
	}
}
