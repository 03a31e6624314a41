package pgstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
)

// checkBatch refuses a batch whose records are not ascending records of
// its device, as boltstore does, and what the schema cannot hold: a
// sequence number above 2⁶³−1, or (boltstore's limits) a venue id over 255
// bytes or a sealed part over 65,535.
func checkBatch(b store.Batch) error {
	for i, r := range b.Records {
		if r.Device != b.Device || r.Seq == 0 || i > 0 && r.Seq <= b.Records[i-1].Seq {
			return fmt.Errorf("record %d is %q/%d: want ascending records of the batch's device", i, r.Device, r.Seq)
		}
		if r.Seq > math.MaxInt64 {
			return fmt.Errorf("record %d: sequence number %d above 2⁶³−1", i, r.Seq)
		}
		if len(r.Venue) > 255 || len(r.Sealed) > math.MaxUint16 {
			return fmt.Errorf("record %d: venue of %d bytes or sealed part of %d bytes", r.Seq, len(r.Venue), len(r.Sealed))
		}
	}
	if b.LastSeq > math.MaxInt64 {
		return fmt.Errorf("last sequence number %d above 2⁶³−1", b.LastSeq)
	}
	return nil
}

// Ingest implements store.Store, in one transaction:
//
//  1. lock the device's state row, then find which of the batch's
//     sequence numbers are stored, in any partition;
//  2. make the partitions of the new records' days (see ensureDays), or
//     refuse the batch with a *store.DayDroppedError when a new record's
//     day was dropped;
//  3. copy the new records in (COPY … FROM STDIN BINARY);
//  4. in one round trip: the break entry if a record was new, the boot
//     starts (the earliest wins), the device state (moved forward only)
//     and its counts.
//  5. the batch's ledger leaf (store.Batch.Leaf) if a record was new,
//     last, as its lock on ledger_head serializes appends (ledger.go).
//
// Should a partition that this process knew of be gone (another
// process's DropDay), the transaction fails without effect and runs once
// more.
func (s *Store) Ingest(ctx context.Context, b store.Batch) (int, error) {
	if err := checkBatch(b); err != nil {
		return 0, fmt.Errorf("pgstore: ingest %q: %w", b.Device, err)
	}
	days := make([]time.Time, len(b.Records))
	for i, r := range b.Records {
		days[i] = kstDay(r.Time)
	}
	stored, known, err := s.ingest(ctx, b, days)
	if err != nil && isNoPartition(err) {
		// Another process dropped a day this one knew: ask again, once.
		s.forgetDays()
		stored, known, err = s.ingest(ctx, b, days)
	}
	if err != nil {
		return 0, fmt.Errorf("pgstore: ingest %q: %w", b.Device, err)
	}
	s.rememberDays(known)
	return stored, nil
}

// ingest is Ingest's transaction, days[i] being the day of b.Records[i].
// It returns how many records it stored and the days whose partition it
// found or made.
func (s *Store) ingest(ctx context.Context, b store.Batch, days []time.Time) (stored int, known []time.Time, err error) {
	device := []byte(b.Device)
	err = s.update(ctx, func(tx pgx.Tx) error {
		stored, known = 0, nil
		// 1. The lock, then what is stored. Two round trips on purpose:
		// nothing in the transaction may touch checkins before it holds
		// the lock. PostgreSQL refreshes a transaction's view of a table's
		// partitions only when it takes a new lock on the table, so a
		// statement parsed earlier (pgx prepares a batch's statements
		// before it runs the first) would miss a partition that the
		// lock's previous holder made, and the records in it.
		st, err := scanState(tx.QueryRow(ctx, selectState+" FOR UPDATE", device), b.Device)
		if err != nil {
			return err
		}
		var first, last int64
		if len(b.Records) > 0 {
			first, last = int64(b.Records[0].Seq), int64(b.Records[len(b.Records)-1].Seq)
		}
		rows, _ := tx.Query(ctx, "SELECT seq FROM checkins WHERE device = $1 AND seq BETWEEN $2 AND $3", device, first, last)
		have, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		isStored := make(map[uint64]bool, len(have))
		for _, seq := range have {
			isStored[uint64(seq)] = true
		}
		var fresh []int // indexes of the records to store
		var freshDays []time.Time
		for i, r := range b.Records {
			if !isStored[r.Seq] {
				fresh = append(fresh, i)
				freshDays = append(freshDays, days[i])
			}
		}

		// 2. Partitions.
		if len(fresh) > 0 {
			var dropped map[time.Time]bool
			if dropped, known, err = s.ensureDays(ctx, tx, freshDays); err != nil {
				return err
			}
			var refused []uint64
			for _, i := range fresh {
				if dropped[days[i]] {
					refused = append(refused, b.Records[i].Seq)
				}
			}
			if len(refused) > 0 { // past retention: refused whole
				return &store.DayDroppedError{Device: b.Device, Seqs: refused}
			}
		}

		// 3. Records.
		if len(fresh) > 0 {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"checkins"}, checkInColumns,
				pgx.CopyFromSlice(len(fresh), func(i int) ([]any, error) {
					return checkInRow(b.Records[fresh[i]], days[fresh[i]]), nil
				}))
			if err != nil {
				return fmt.Errorf("copy records: %w", err)
			}
			stored = int(n)
		}

		// 4. Break entry, boots, state.
		if b.LastSeq > st.LastSeq {
			st.LastSeq, st.LastHash = b.LastSeq, b.LastHash
		}
		st.Records += uint64(stored)
		q := &pgx.Batch{}
		if b.Break != nil && stored > 0 {
			e := *b.Break
			e.Device = b.Device
			queueQuarantine(q, e)
			st.Breaks++
			st.Quarantined++
		}
		for boot, start := range b.Boots {
			us, ns := splitTime(start)
			q.Queue(`INSERT INTO boots (device, boot, start, start_ns) VALUES ($1, $2, $3, $4)
				ON CONFLICT (device, boot) DO UPDATE SET start = excluded.start, start_ns = excluded.start_ns
				WHERE (excluded.start, excluded.start_ns) < (boots.start, boots.start_ns)`,
				device, boot[:], us, ns)
		}
		q.Queue(`UPDATE device_states SET last_seq = $2, last_hash = $3, records = $4, quarantined = $5, breaks = $6
			WHERE device = $1`, device, int64(st.LastSeq), st.LastHash[:], int64(st.Records), int64(st.Quarantined), int64(st.Breaks))
		if err := tx.SendBatch(ctx, q).Close(); err != nil {
			return err
		}
		// 5. The batch's ledger leaf, last: its lock serializes appends.
		if b.Leaf != nil && stored > 0 {
			first, last := b.Records[fresh[0]].Seq, b.Records[fresh[len(fresh)-1]].Seq
			return appendBatchLeaf(ctx, tx, b.Device, b.Leaf, first, last)
		}
		return nil
	})
	return stored, known, err
}
