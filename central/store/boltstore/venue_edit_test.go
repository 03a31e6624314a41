package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/anshim/anshim/central/store/storetest"
)

// Ensure that the bbolt store edits venue details and lists and deletes
// enrollment tokens as store.VenueEdits says.
func TestStore_VenueEdits(t *testing.T) {
	s := openChecked(t, filepath.Join(t.TempDir(), "s.db"))
	t.Cleanup(func() { s.Close() }) // before openChecked's check
	storetest.VenueEdits(t, s)
}
