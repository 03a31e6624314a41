package ingest

import (
	"fmt"
	"io"
	"sync/atomic"
)

// Quarantine reasons, as stored in store.Quarantine.Reason. The first
// eight are the checks of docs/sync.md; sequence-gap and chain-break are
// events recorded for a batch that was ingested all the same; day-destroyed
// records the records of a batch refused for their day, quota-exceeded a
// device that reached its quarantine quota.
const (
	ReasonMalformed     = "malformed"      // wire.Decode failed
	ReasonUnknownDevice = "unknown-device" // the batch's device is not enrolled
	ReasonWrongSubject  = "wrong-subject"  // subject, batch, device registry or records disagree on venue/device
	ReasonBadSignature  = "bad-signature"  // the head is not signed by the device's key
	ReasonBrokenChain   = "broken-chain"   // the records do not chain to the signed head
	ReasonConflict      = "seq-conflict"   // records differ from stored ones of the same (device, seq)
	ReasonCannotOpen    = "cannot-open"    // a sealed part does not open with the province key
	ReasonStoreError    = "store-error"    // the store failed on this message PoisonAfter times

	ReasonSequenceGap = "sequence-gap" // ingested and flagged: records before the batch are missing
	ReasonChainBreak  = "chain-break"  // ingested and flagged: Prev differs from the stored hash

	ReasonDayDestroyed  = "day-destroyed"  // records of a day destroyed or dropped from the store: not stored, hashes kept, batch acked
	ReasonQuotaExceeded = "quota-exceeded" // the device reached its quarantine quota: a summary entry, later entries not kept
)

// Reasons lists every quarantine reason, in the order Metrics reports them.
var reasons = [...]string{
	ReasonMalformed, ReasonUnknownDevice, ReasonWrongSubject, ReasonBadSignature,
	ReasonBrokenChain, ReasonConflict, ReasonCannotOpen, ReasonStoreError,
	ReasonSequenceGap, ReasonChainBreak, ReasonDayDestroyed, ReasonQuotaExceeded,
}

// Reasons returns every quarantine reason Handle and Run record.
func Reasons() []string { return append([]string(nil), reasons[:]...) }

// Metrics are the ingest's counters, safe for concurrent use. Read them
// with the atomic fields' Load, Quarantined, or WritePrometheus.
type Metrics struct {
	// Batches counts messages handled to the end: stored, duplicate or
	// quarantined (and then acked).
	Batches atomic.Uint64
	// Stored counts check-ins new to the store.
	Stored atomic.Uint64
	// Duplicates counts check-ins skipped because they were stored already.
	Duplicates atomic.Uint64
	// Breaks counts batches ingested although they did not continue their
	// device's chain (sequence gaps and chain breaks).
	Breaks atomic.Uint64
	// Uncorrected counts check-ins stored with FlagUncorrected.
	Uncorrected atomic.Uint64
	// Retries counts messages left for redelivery after a store error.
	Retries atomic.Uint64
	// Expired counts check-ins refused because their day's key was
	// destroyed or the day dropped from the store (past retention): not
	// stored, quarantined as ReasonDayDestroyed.
	Expired atomic.Uint64
	// QuotaHits counts quarantine entries cut short by their device's
	// quarantine quota: kept without payload, replaced by the summary
	// entry, or not kept.
	QuotaHits atomic.Uint64
	// Held counts hold-backs of batches after a gap in their device's
	// sequence (Config.GapWait): each is a NAK and a redelivery.
	Held atomic.Uint64

	quarantined [len(reasons)]atomic.Uint64
}

// Quarantined returns how many quarantine entries were made for reason
// (breaks included).
func (m *Metrics) Quarantined(reason string) uint64 {
	if i := reasonIndex(reason); i >= 0 {
		return m.quarantined[i].Load()
	}
	return 0
}

func (m *Metrics) quarantine(reason string) {
	if i := reasonIndex(reason); i >= 0 {
		m.quarantined[i].Add(1)
	}
}

func reasonIndex(reason string) int {
	for i, r := range reasons {
		if r == reason {
			return i
		}
	}
	return -1
}

// WritePrometheus writes the counters in the Prometheus text exposition
// format, for a /metrics handler.
func (m *Metrics) WritePrometheus(w io.Writer) error {
	counters := []struct {
		name, help string
		v          *atomic.Uint64
	}{
		{"anshim_ingest_batches_total", "Kiosk batches handled (stored, duplicate or quarantined).", &m.Batches},
		{"anshim_ingest_records_stored_total", "Check-ins new to the store.", &m.Stored},
		{"anshim_ingest_records_duplicate_total", "Check-ins skipped as already stored.", &m.Duplicates},
		{"anshim_ingest_breaks_total", "Batches ingested after a sequence gap or chain break.", &m.Breaks},
		{"anshim_ingest_records_uncorrected_total", "Check-ins whose unsynced clock could not be corrected.", &m.Uncorrected},
		{"anshim_ingest_retries_total", "Messages left for redelivery after a store error.", &m.Retries},
		{"anshim_ingest_records_expired_total", "Check-ins refused past retention (day key destroyed or day dropped): not stored, quarantined as day-destroyed.", &m.Expired},
		{"anshim_ingest_quarantine_quota_total", "Quarantine entries cut short by their device's quarantine quota (payload not kept, or entry not kept).", &m.QuotaHits},
		{"anshim_ingest_held_total", "Hold-backs of batches after a sequence gap while the records before them arrive.", &m.Held},
	}
	for _, c := range counters {
		if _, err := fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", c.name, c.help, c.name, c.name, c.v.Load()); err != nil {
			return err
		}
	}
	const q = "anshim_ingest_quarantined_total"
	if _, err := fmt.Fprintf(w, "# HELP %s Quarantine entries by reason.\n# TYPE %s counter\n", q, q); err != nil {
		return err
	}
	for i, r := range reasons {
		if _, err := fmt.Fprintf(w, "%s{reason=%q} %d\n", q, r, m.quarantined[i].Load()); err != nil {
			return err
		}
	}
	return nil
}
