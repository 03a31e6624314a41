package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
)

// BulkLoad stores fresh check-ins in one transaction: COPY straight into
// each day's partition (made if missing), then every device's state moved
// to its last record (LastSeq, LastHash, Records) in one statement. It is
// the bulk path of synthetic loads (central/synth), not of ingest: it
// checks, under the device rows' locks, that every record continues its
// device above the stored state, and refuses the whole load otherwise; it
// keeps no boots, breaks or quarantine. Records of one device must be
// ascending; devices may be interleaved. Records of dropped days are
// refused.
func (s *Store) BulkLoad(ctx context.Context, rs []store.CheckIn) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	type last struct {
		first, seq, n int64
		hash          []byte
	}
	lasts := map[string]*last{}
	var devices []string
	byDay := map[time.Time][]int{}
	var days []time.Time
	for i, r := range rs {
		if len(r.Venue) > 255 || len(r.Sealed) > 65535 || r.Seq == 0 || r.Seq > 1<<63-1 {
			return 0, fmt.Errorf("pgstore: bulk load: record %s/%d out of the schema's range", r.Device, r.Seq)
		}
		l := lasts[r.Device]
		if l == nil {
			l = &last{first: int64(r.Seq)}
			lasts[r.Device] = l
			devices = append(devices, r.Device)
		} else if int64(r.Seq) <= l.seq {
			return 0, fmt.Errorf("pgstore: bulk load: records of %s not ascending at %d", r.Device, r.Seq)
		}
		l.seq, l.hash = int64(r.Seq), r.Hash[:]
		l.n++
		d := kstDay(r.Time)
		if byDay[d] == nil {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], i)
	}
	var known []time.Time
	err := s.update(ctx, func(tx pgx.Tx) error {
		ids := make([][]byte, len(devices))
		firsts := make([]int64, len(devices))
		for i, d := range devices {
			ids[i], firsts[i] = []byte(d), lasts[d].first
		}
		var bad []byte
		err := tx.QueryRow(ctx, `SELECT s.device FROM device_states s
			JOIN unnest($1::bytea[], $2::bigint[]) AS u(device, first) ON u.device = s.device
			WHERE s.last_seq >= u.first ORDER BY s.device LIMIT 1 FOR UPDATE OF s`, ids, firsts).Scan(&bad)
		switch {
		case err == nil:
			return fmt.Errorf("device %s: records at or below its last sequence", bad)
		case err != pgx.ErrNoRows:
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM device_states WHERE device = ANY($1)`, ids).Scan(&n); err != nil {
			return err
		}
		if n != len(ids) {
			return fmt.Errorf("%d of %d devices not enrolled: %w", len(ids)-n, len(ids), store.ErrNotFound)
		}
		dropped, k, err := s.ensureDays(ctx, tx, days)
		if err != nil {
			return err
		}
		known = k
		for _, d := range days {
			if dropped[d] {
				return fmt.Errorf("day %s was dropped", d.Format(time.DateOnly))
			}
			idx := byDay[d]
			_, err := tx.CopyFrom(ctx, pgx.Identifier{partitionName(d)}, checkInColumns,
				pgx.CopyFromSlice(len(idx), func(i int) ([]any, error) {
					return checkInRow(rs[idx[i]], d), nil
				}))
			if err != nil {
				return fmt.Errorf("copy into %s: %w", partitionName(d), err)
			}
		}
		seqs := make([]int64, len(devices))
		hashes := make([][]byte, len(devices))
		counts := make([]int64, len(devices))
		for i, d := range devices {
			seqs[i], hashes[i], counts[i] = lasts[d].seq, lasts[d].hash, lasts[d].n
		}
		_, err = tx.Exec(ctx, `UPDATE device_states s SET last_seq = u.seq, last_hash = u.hash, records = s.records + u.n
			FROM unnest($1::bytea[], $2::bigint[], $3::bytea[], $4::bigint[]) AS u(device, seq, hash, n)
			WHERE s.device = u.device`, ids, seqs, hashes, counts)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: bulk load: %w", err)
	}
	s.rememberDays(known)
	return len(rs), nil
}
