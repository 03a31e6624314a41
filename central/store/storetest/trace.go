package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// traceRecords makes check-ins of device at venue at the given times (KST
// wall clock of 26..27 Nov 2026), each tagged tags[i].
func traceRecords(device, venue string, from uint64, times []time.Time, tags [][16]byte) store.Batch {
	b := store.Batch{Device: device}
	for i, tm := range times {
		seq := from + uint64(i)
		b.Records = append(b.Records, store.CheckIn{
			Device: device, Seq: seq, Venue: venue, Kind: checkin.Kind(1 + i%2),
			RawWall: tm, Time: tm, Quality: checkin.TimeQuality(1),
			Sealed: []byte(fmt.Sprintf("sealed %s/%d", device, seq)), Tag: tags[i],
			Flags: uint32(i % 5), Received: tm.Add(time.Minute),
		})
	}
	b.LastSeq = b.Records[len(b.Records)-1].Seq
	return b
}

// sameCheckIns compares what tracing reads of check-ins.
func sameCheckIns(t *testing.T, what string, got, want []store.CheckIn) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil, want an empty slice or check-ins", what)
	}
	ids := func(rs []store.CheckIn) (s []string) {
		for _, r := range rs {
			s = append(s, fmt.Sprintf("%s/%d", r.Device, r.Seq))
		}
		return s
	}
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, ids(got), ids(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Device != w.Device || g.Seq != w.Seq || g.Venue != w.Venue || g.Kind != w.Kind || !g.Time.Equal(w.Time) ||
			!bytes.Equal(g.Sealed, w.Sealed) || g.Tag != w.Tag || g.Flags != w.Flags {
			t.Fatalf("%s[%d] = %+v, want %+v (order %v, want %v)", what, i, g, w, ids(got), ids(want))
		}
	}
}

// testTracing: CheckInsAt and CheckInsByTag find exactly the check-ins of
// their venue and range, or day and tag, in (Time, Device, Seq) order, to
// the nanosecond at the bounds, across a KST midnight, after a reopen, and
// no longer after DropDay.
func testTracing(t *testing.T, h *harness) {
	s := h.store("trace")
	ctx := h.ctx
	enroll(t, s, "k-1", "v-1")
	enroll(t, s, "k-2", "v-1")
	enroll(t, s, "k-3", "v-2")
	kst := time.FixedZone("KST", 9*60*60)
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, kst) }
	tagA, tagB := [16]byte{0xa}, [16]byte{0xb}
	// k-1 at v-1: 26th 10:00 (A), 10:30 (B), 23:50 (A), 27th 00:10 (A).
	b1 := traceRecords("k-1", "v-1", 1, []time.Time{at(26, 10, 0), at(26, 10, 30), at(26, 23, 50), at(27, 0, 10)},
		[][16]byte{tagA, tagB, tagA, tagA})
	// k-2 at v-1: 26th 10:00 plus 1 ns (B), 10:30 (A), equal times with k-1's.
	b2 := traceRecords("k-2", "v-1", 1, []time.Time{at(26, 10, 0).Add(1), at(26, 10, 30)}, [][16]byte{tagB, tagA})
	// k-3 at v-2: 26th 10:15 (A).
	b3 := traceRecords("k-3", "v-2", 1, []time.Time{at(26, 10, 15)}, [][16]byte{tagA})
	for _, b := range []store.Batch{b1, b2, b3} {
		ingest(t, s, b, len(b.Records))
	}
	r1, r2, r3 := b1.Records, b2.Records, b3.Records

	check := func(s store.Store) {
		t.Helper()
		for _, tt := range []struct {
			venue    string
			from, to time.Time
			want     []store.CheckIn
		}{
			{"v-1", at(26, 0, 0), at(28, 0, 0), []store.CheckIn{r1[0], r2[0], r1[1], r2[1], r1[2], r1[3]}},
			{"v-1", at(26, 10, 0), at(26, 10, 30), []store.CheckIn{r1[0], r2[0]}},                      // from inclusive, to exclusive
			{"v-1", at(26, 10, 0).Add(1), at(26, 10, 30).Add(1), []store.CheckIn{r2[0], r1[1], r2[1]}}, // nanoseconds
			{"v-1", at(26, 23, 0), at(27, 1, 0), []store.CheckIn{r1[2], r1[3]}},                        // across midnight
			{"v-1", at(26, 11, 0), at(26, 12, 0), []store.CheckIn{}},
			{"v-1", at(26, 12, 0), at(26, 11, 0), []store.CheckIn{}}, // empty range
			{"v-2", at(26, 0, 0), at(27, 0, 0), []store.CheckIn{r3[0]}},
			{"v-3", at(26, 0, 0), at(27, 0, 0), []store.CheckIn{}},
			{"v-", at(26, 0, 0), at(27, 0, 0), []store.CheckIn{}}, // a prefix of venue ids
		} {
			got, err := s.CheckInsAt(ctx, tt.venue, tt.from, tt.to)
			if err != nil {
				t.Fatalf("CheckInsAt(%s, %v, %v): %v", tt.venue, tt.from, tt.to, err)
			}
			sameCheckIns(t, fmt.Sprintf("CheckInsAt(%s, %v, %v)", tt.venue, tt.from, tt.to), got, tt.want)
		}
		for _, tt := range []struct {
			day  time.Time
			tag  [16]byte
			want []store.CheckIn
		}{
			{at(26, 12, 0), tagA, []store.CheckIn{r1[0], r3[0], r2[1], r1[2]}},
			{at(26, 0, 0), tagB, []store.CheckIn{r2[0], r1[1]}},
			{at(27, 23, 59), tagA, []store.CheckIn{r1[3]}},
			{at(27, 12, 0), tagB, []store.CheckIn{}},
			{at(25, 12, 0), tagA, []store.CheckIn{}},
			{at(26, 12, 0), [16]byte{0xa, 1}, []store.CheckIn{}},
		} {
			got, err := s.CheckInsByTag(ctx, tt.day, tt.tag)
			if err != nil {
				t.Fatalf("CheckInsByTag(%v, %x): %v", tt.day, tt.tag, err)
			}
			sameCheckIns(t, fmt.Sprintf("CheckInsByTag(%v, %x)", tt.day, tt.tag[:2]), got, tt.want)
		}
	}
	check(s)
	// A redelivered batch is found once.
	ingest(t, s, b1, 0)
	check(s)
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s = h.store("trace")
	check(s)

	if _, err := s.DropDay(ctx, at(26, 12, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := s.CheckInsAt(ctx, "v-1", at(26, 0, 0), at(28, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	sameCheckIns(t, "CheckInsAt after DropDay", got, []store.CheckIn{r1[3]})
	got, err = s.CheckInsByTag(ctx, at(26, 12, 0), tagA)
	if err != nil {
		t.Fatal(err)
	}
	sameCheckIns(t, "CheckInsByTag after DropDay", got, []store.CheckIn{})
}
