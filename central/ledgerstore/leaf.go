package ledgerstore

import (
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/ledger"
)

// EventLeaf returns the leaf text of an audit event as the store commits
// to it (its time in UTC to the microsecond, as every backend keeps it):
// ID, Time, Kind, Who and Detail, never the case reference or reason.
func EventLeaf(e store.AuditEvent) ([]byte, error) {
	return (&ledger.Event{ID: e.ID, Time: e.Time, Kind: e.Kind, Who: e.Who, Detail: e.Detail}).MarshalText()
}

// Record returns the ledger's view of a stored check-in: every field the
// stored lines of a batch leaf commit to (ledger.EncodeStored).
func Record(c store.CheckIn) ledger.StoredRecord {
	return ledger.StoredRecord{
		Device: c.Device, Seq: c.Seq, Venue: c.Venue,
		Kind: uint8(c.Kind), Quality: uint8(c.Quality), Flags: c.Flags,
		RawWall: c.RawWall, Boot: c.Boot, Mono: c.Mono, Time: c.Time,
		Sealed: c.Sealed, Tag: c.Tag, Hash: c.Hash,
	}
}

// Records returns Record of each of recs, in order.
func Records(recs []store.CheckIn) []ledger.StoredRecord {
	out := make([]ledger.StoredRecord, len(recs))
	for i, c := range recs {
		out[i] = Record(c)
	}
	return out
}

// NewBatch is ledger.NewBatch of the check-ins recs as the store will keep
// them: the leaf of a batch with its stored lines (see ledger.NewBatch for
// when it has none).
func NewBatch(device string, first, last uint64, head, sealed [32]byte, recs []store.CheckIn) ledger.Batch {
	return ledger.NewBatch(device, first, last, head, sealed, Records(recs))
}

// StoredHash is ledger.StoredHash of a stored check-in.
func StoredHash(c store.CheckIn) ([32]byte, error) { return ledger.StoredHash(Record(c)) }
