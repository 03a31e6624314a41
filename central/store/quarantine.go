package store

import (
	"context"
	"fmt"
	"time"
)

// Quarantine is a batch or event kept aside for a person to look at: never
// silently ingested, never silently dropped. An entry is as short-lived as
// the check-ins it may hold: it belongs to one KST day (Day), and
// DropQuarantine deletes it with that day, 28 days on; its payload is
// sealed under that day's key (central/daykeys) by sync/ingest, so that no
// copy of the store can be read for it once the day key is destroyed.
type Quarantine struct {
	ID uint64 `json:"id"` // assigned by the store
	// Device is the device whose subject the message came on (the
	// authenticated sender, anshim.checkins.<venue>.<device>), "" when
	// the subject names none. The device a payload names is in Detail
	// when it differs.
	Device  string `json:"device"`
	Subject string `json:"subject"`
	Reason  string `json:"reason"` // see the Reason constants of sync/ingest: malformed, unknown-device, wrong-subject, bad-signature, broken-chain, seq-conflict, cannot-open, store-error, sequence-gap, chain-break, day-destroyed, quota-exceeded
	// Detail explains the reason, without personal data.
	Detail   string    `json:"detail"`
	Received time.Time `json:"received"`
	// Day is an instant of the KST day the entry belongs to; zero means
	// the day of Received. DropQuarantine of that day deletes the entry.
	Day time.Time `json:"day"`
	// First and Last are the sequence range the message claims (its
	// header), 0 when it did not decode.
	First uint64 `json:"first,omitempty"`
	Last  uint64 `json:"last,omitempty"`
	// Sum is the SHA-256 of the message as received and Size its length:
	// kept whether the payload is or not, so that an entry can be matched
	// with the kiosk's copy, the stream or the ledger.
	Sum  [32]byte `json:"-"`
	Size int      `json:"size"`
	// Payload is the message as received, sealed by sync/ingest under
	// the key of Day (ingest.OpenQuarantine), or empty when only Sum is
	// kept. The store keeps it byte for byte and never looks inside.
	Payload []byte `json:"-"`
}

// Quarantines is the store's part in the quarantine.
type Quarantines interface {
	// AddQuarantine stores an entry, payload included, and returns its id
	// (ids increase). It counts in the device's state when q.Device is
	// enrolled; entries of unknown devices are kept all the same.
	AddQuarantine(ctx context.Context, q Quarantine) (uint64, error)
	// Quarantined returns a device's entries, or every entry when device is
	// "", in id order.
	Quarantined(ctx context.Context, device string) ([]Quarantine, error)
	// QuarantineUsage returns how many entries of the device the store
	// holds and the total length of their payloads: what the device's
	// quarantine quota (sync/ingest) is measured against.
	QuarantineUsage(ctx context.Context, device string) (entries int, bytes int64, err error)
	// DropQuarantine deletes every entry of the KST day that contains day
	// (Quarantine.Day), payload and all, and returns how many it deleted.
	// Entries of that day added later are deleted by a later call;
	// dropping a day again deletes nothing more. The devices' counts of
	// quarantined entries are unchanged.
	DropQuarantine(ctx context.Context, day time.Time) (int, error)
}

// DayDroppedError is Ingest's refusal of a batch holding new records of a
// day that DropDay dropped: nothing of the batch is stored. The caller
// decides what becomes of those records (sync/ingest quarantines their
// hashes as "day-destroyed") and ingests the rest without them.
type DayDroppedError struct {
	Device string
	Seqs   []uint64 // the records of dropped days, ascending
}

func (e *DayDroppedError) Error() string {
	return fmt.Sprintf("%d records of %s (first %d) are of a dropped day", len(e.Seqs), e.Device, e.Seqs[0])
}
