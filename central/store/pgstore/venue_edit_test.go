package pgstore

import (
	"testing"

	"github.com/anshim/anshim/central/store/storetest"
)

// Ensure that the PostgreSQL store edits venue details and lists and
// deletes enrollment tokens as store.VenueEdits says.
func TestStore_VenueEdits(t *testing.T) {
	storetest.VenueEdits(t, openStore(t, newDatabase(t), nil))
}
