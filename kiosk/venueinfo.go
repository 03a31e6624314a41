package kiosk

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/anshim/anshim/sync/wire"
)

// errFound stops a cache walk.
var errFound = errors.New("found")

// CachedVenue returns the venue's name and category as the down-sync
// cache holds them (wire.VenueSettings of the venues bucket): what the
// central last said, kept for offline restarts, or what `kiosk init
// --venue-name` put there. Empty when the kiosk knows neither.
func CachedVenue(ob *Outbox, venue string) (name, category string) {
	ob.ForEachCache(wire.BucketVenues, func(key string, value []byte) error {
		if key != venue {
			return nil
		}
		if s, err := wire.ParseVenueSettings(value); err == nil {
			name, category = s.Name, s.Category
		}
		return errFound
	})
	return name, category
}

// SetVenueName records the venue's name and category for a kiosk that has
// not synced yet (`kiosk init --venue-name`): they go into the down-sync
// cache as the venue's settings, which the central's replace at the first
// sync. The kiosk must not be running (the outbox is opened).
func SetVenueName(dir string, dev *Device, name, category string) error {
	if name == "" {
		return errors.New("venue name: empty")
	}
	v, err := wire.VenueSettings{Name: name, Category: category}.Marshal()
	if err != nil {
		return fmt.Errorf("venue name: %w", err)
	}
	ob, err := OpenOutbox(filepath.Join(dir, FileOutbox), dev.PrivateKey())
	if err != nil {
		return fmt.Errorf("venue name: %w", err)
	}
	defer ob.Close()
	return ob.PutCache(wire.BucketVenues, dev.Venue, v)
}
