package ingest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

// The default quarantine quota of one device (Config.QuarantineMaxBytes,
// Config.QuarantineMaxEntries): four batches of the kiosks' largest size,
// and a thousand entries.
const (
	DefaultQuarantineMaxBytes   = 1 << 20
	DefaultQuarantineMaxEntries = 1000
)

// sealPayload fills in q's hash and size of data (the message as
// received) and seals data under the key of q's day: the earliest of the
// KST day it was received and the days of its records whose clock was
// synced, so that a quarantined record is never kept longer than the
// record itself would be. When that day's key is destroyed the payload is
// not kept, only its hash. Without day keys (tests) the payload is kept
// as received.
func (in *Ingester) sealPayload(q *store.Quarantine, data []byte, recs []*checkin.Record) {
	q.Sum, q.Size = sha256.Sum256(data), len(data)
	if in.cfg.DayKeys == nil {
		q.Payload = data
		return
	}
	day := daykeys.DayOf(q.Received)
	for _, r := range recs {
		if r.Quality != checkin.Unsynced {
			day = min(day, daykeys.DayOf(r.Wall))
		}
	}
	sealed, err := in.cfg.DayKeys.Seal(day, data, daykeys.QuarantineAD(q.Sum))
	if err != nil {
		q.Detail += fmt.Sprintf("; payload not kept (%v), only its sha256", err)
		return
	}
	q.Day, q.Payload = day.Start(), sealed
}

// OpenQuarantine returns the message of a quarantine entry as it was
// received: its payload opened with the key of the entry's day and checked
// against its hash. It fails with daykeys.ErrDestroyed once the day is
// destroyed, and for an entry that kept only the hash of its message.
func OpenQuarantine(keys *daykeys.Keys, q store.Quarantine) ([]byte, error) {
	if len(q.Payload) == 0 {
		return nil, fmt.Errorf("quarantine entry %d keeps no payload, only its sha256", q.ID)
	}
	day := q.Day
	if day.IsZero() {
		day = q.Received
	}
	data, err := keys.Open(daykeys.DayOf(day), q.Payload, daykeys.QuarantineAD(q.Sum))
	if err != nil {
		return nil, fmt.Errorf("quarantine entry %d: %w", q.ID, err)
	}
	if sha256.Sum256(data) != q.Sum {
		return nil, fmt.Errorf("quarantine entry %d: payload does not match its sha256", q.ID)
	}
	return data, nil
}

// quota holds q to its device's quarantine quota and returns what to
// store: q itself; q without its payload when the payload would take the
// device over QuarantineMaxBytes; when the device has just reached
// QuarantineMaxEntries, a summary entry (ReasonQuotaExceeded) without
// payload; past that nothing (ok false) — unless must (a break entry,
// stored with its records), which is then kept without payload. Every hit
// is an ERROR line and counts in Metrics.QuotaHits.
func (in *Ingester) quota(ctx context.Context, q store.Quarantine, must bool) (_ store.Quarantine, ok bool, err error) {
	n, size, err := in.cfg.Store.QuarantineUsage(ctx, q.Device)
	if err != nil {
		return q, false, err
	}
	maxN, maxB := in.cfg.QuarantineMaxEntries, in.cfg.QuarantineMaxBytes
	hit := func(kept string) {
		in.cfg.Metrics.QuotaHits.Add(1)
		in.cfg.Log.Error("ingest: device over its quarantine quota", "device", q.Device, "reason", q.Reason,
			"first", q.First, "last", q.Last, "entries", n, "bytes", size, "max_entries", maxN, "max_bytes", maxB,
			"sha256", fmt.Sprintf("%x", q.Sum), "kept", kept)
	}
	switch {
	case n >= maxN && must:
		q.Payload = nil
		q.Detail += fmt.Sprintf("; payload not kept: the device's quarantine holds %d entries, its quota %d", n, maxN)
		hit("entry without payload")
	case n > maxN:
		hit("nothing")
		return q, false, nil
	case n == maxN:
		hit("summary entry")
		return store.Quarantine{
			Device:   q.Device,
			Subject:  q.Subject,
			Reason:   ReasonQuotaExceeded,
			Detail:   fmt.Sprintf("quarantine quota of %d entries reached: this device's later entries are logged and counted, not kept, until its oldest are dropped with their day; the first not kept: %s: %s", maxN, q.Reason, q.Detail),
			Received: q.Received,
			First:    q.First,
			Last:     q.Last,
			Sum:      q.Sum,
			Size:     q.Size,
		}, true, nil
	case len(q.Payload) > 0 && size+int64(len(q.Payload)) > maxB:
		q.Payload = nil
		q.Day = time.Time{} // kept as long as the day it was received
		q.Detail += fmt.Sprintf("; payload not kept: the device's quarantine holds %d bytes, its quota %d", size, maxB)
		hit("entry without payload")
	}
	return q, true, nil
}

// keep stores q within its device's quota and returns its id (0 when the
// quota left nothing to store).
func (in *Ingester) keep(ctx context.Context, q store.Quarantine) (uint64, error) {
	q, ok, err := in.quota(ctx, q, false)
	if err != nil || !ok {
		return 0, err
	}
	if q.Reason == ReasonQuotaExceeded {
		in.cfg.Metrics.quarantine(ReasonQuotaExceeded)
	}
	return in.cfg.Store.AddQuarantine(ctx, q)
}

// quarantine stores the message as a quarantine entry (b and recs, the
// decoded batch, may be nil) and fills in res.
func (in *Ingester) quarantine(ctx context.Context, res Result, b *wire.Batch, recs []*checkin.Record, subject string, data []byte, received time.Time, reason, detail string) (Result, error) {
	device := res.Device
	if device != "" && res.LastSeq > 0 {
		in.qmu.Lock()
		if in.quarantinedTo == nil {
			in.quarantinedTo = make(map[string]uint64)
		}
		in.quarantinedTo[device] = max(in.quarantinedTo[device], res.LastSeq)
		in.qmu.Unlock()
	}
	if len(device) > checkin.MaxIDLen {
		device = ""
	}
	q := store.Quarantine{Device: device, Subject: subject, Reason: reason, Detail: detail, Received: received,
		First: res.FirstSeq, Last: res.LastSeq}
	if b != nil {
		q.First, q.Last = b.FirstSeq(), b.Head.Seq
	}
	in.sealPayload(&q, data, recs)
	id, err := in.keep(ctx, q)
	if err != nil {
		return res, fmt.Errorf("quarantine (%s) %s: %w", reason, subject, err)
	}
	res.Quarantined, res.QuarantineID, res.Detail = reason, id, detail
	res.Stored, res.Duplicates, res.Uncorrected, res.Break = 0, 0, 0, ""
	in.cfg.Metrics.quarantine(reason)
	in.cfg.Log.Error("ingest: batch quarantined",
		"reason", reason, "device", res.Device, "first", q.First, "last", q.Last,
		"subject", subject, "quarantine_id", id, "sha256", fmt.Sprintf("%x", q.Sum), "detail", detail)
	return res, nil
}

// refuse records that the records seqs of a batch, of days destroyed or
// dropped from the store, were not stored: a quarantine entry
// (ReasonDayDestroyed) that keeps the batch's hash, never its payload,
// an ERROR line and the metrics. The batch is then acked: the kiosk may
// delete its copies, and the event stays visible.
func (in *Ingester) refuse(ctx context.Context, res *Result, b *wire.Batch, subject string, data []byte, received time.Time, seqs []uint64, days []daykeys.Day) error {
	detail := fmt.Sprintf("records %s of days %s not stored: the day is destroyed or dropped from the store (past retention)", seqList(seqs), dayList(days))
	q := store.Quarantine{Device: b.Device, Subject: subject, Reason: ReasonDayDestroyed, Detail: detail, Received: received,
		First: b.FirstSeq(), Last: b.Head.Seq, Sum: sha256.Sum256(data), Size: len(data)}
	id, err := in.keep(ctx, q)
	if err != nil {
		return fmt.Errorf("quarantine (%s) %s: %w", ReasonDayDestroyed, subject, err)
	}
	res.Expired, res.ExpiredID = len(seqs), id
	in.cfg.Metrics.quarantine(ReasonDayDestroyed)
	in.cfg.Log.Error("ingest: records of a destroyed or dropped day refused; their hashes quarantined, the batch acked",
		"reason", ReasonDayDestroyed, "device", b.Device, "first", q.First, "last", q.Last, "refused", len(seqs),
		"subject", subject, "quarantine_id", id, "sha256", fmt.Sprintf("%x", q.Sum), "detail", detail)
	return nil
}

// seqList writes ascending sequence numbers as ranges: "1-3,7".
func seqList(seqs []uint64) string {
	var s []byte
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if len(s) > 0 {
			s = append(s, ',')
		}
		s = fmt.Appendf(s, "%d", seqs[i])
		if j > i {
			s = fmt.Appendf(s, "-%d", seqs[j])
		}
		i = j + 1
	}
	return string(s)
}

// dayList writes distinct days in the order given.
func dayList(days []daykeys.Day) string {
	var s []byte
	seen := map[daykeys.Day]bool{}
	for _, d := range days {
		if seen[d] {
			continue
		}
		seen[d] = true
		if len(s) > 0 {
			s = append(s, ',')
		}
		s = append(s, d.String()...)
	}
	return string(s)
}

// errDayDropped reports whether err is the store's refusal of records of
// dropped days, and which.
func errDayDropped(err error) ([]uint64, bool) {
	var dd *store.DayDroppedError
	if errors.As(err, &dd) {
		return dd.Seqs, true
	}
	return nil, false
}
