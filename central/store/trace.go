package store

import (
	"context"
	"time"
)

// FlagSuspect marks a check-in the central doubts: a poster check-in far
// from its venue, impossible travel (docs/design.md). Tracing keeps flagged
// check-ins and marks them; it treats every flag bit other than
// FlagAfterBreak and FlagUncorrected as such a mark (see [Flagged]), so
// that flags added later are shown to investigators without a change here.
const FlagSuspect uint32 = 1 << 2

// Flagged reports whether flags hold a mark for investigators: any bit but
// FlagAfterBreak and FlagUncorrected, which say how a record reached the
// central rather than whether it is believed.
func Flagged(flags uint32) bool { return flags&^(FlagAfterBreak|FlagUncorrected) != 0 }

// Tracing is the store's part in contact tracing (central/trace): two
// look-ups by index, so that a trace reads the check-ins it needs and no
// others.
//
// Besides the contract of [Store]:
//
//   - Both return complete check-ins (Sealed and Tag included), in the
//     order of (Time, Device, Seq), and an empty slice, not an error, when
//     nothing matches.
//   - A check-in is found from the moment its Ingest returned nil until
//     DropDay deletes its day, by both look-ups alike.
type Tracing interface {
	// CheckInsAt returns the check-ins of a venue, entries and exits, whose
	// corrected Time is in [from, to).
	CheckInsAt(ctx context.Context, venue string, from, to time.Time) ([]CheckIn, error)
	// CheckInsByTag returns the check-ins with the tag among those of the
	// KST day that contains day (the tag links a pseudonym within one day
	// only).
	CheckInsByTag(ctx context.Context, day time.Time, tag [16]byte) ([]CheckIn, error)
}

// AuditIdentityRevealed is the kind of the audit event of a trace that
// revealed identities (AuditTrace for one that did not): Who names the
// account, CaseRef and Reason are kept in clear in the audit store, and
// its detail (central.TraceDetail) holds their SHA-256, the trace and how
// many people, never whom.
const AuditIdentityRevealed = "identity-revealed"
