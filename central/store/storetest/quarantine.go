package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// kstMidnight returns 00:00 KST of t's KST day.
func kstMidnight(t time.Time) time.Time {
	kst := time.FixedZone("KST", 9*60*60)
	y, m, d := t.In(kst).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, kst).UTC()
}

// Ensure that DropQuarantine deletes exactly the entries of one KST day —
// by their Day, or the day received when Day is zero, break entries of
// Ingest included — on every device, and reports how many; that other
// days' entries and the devices' counts are untouched; that dropping
// again deletes nothing, and that an entry of the day added afterwards is
// deleted by the next drop.
func testQuarantineRetention(t *testing.T, h *harness) {
	s := h.store("quarantine-retention")
	enroll(t, s, "k-1", "v-1")
	enroll(t, s, "k-2", "v-1")
	kst := time.FixedZone("KST", 9*60*60)
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, kst)
	ids := map[string]uint64{}
	add := func(name string, q store.Quarantine) {
		t.Helper()
		id, err := s.AddQuarantine(h.ctx, q)
		if err != nil {
			t.Fatalf("AddQuarantine %s: %v", name, err)
		}
		ids[name] = id
	}
	// Received at 23:59 KST on the 24th, sealed under the 25th: the 25th.
	add("day", store.Quarantine{Device: "k-1", Reason: "bad-signature", Received: day.Add(-time.Minute), Day: day.Add(13 * time.Hour), Payload: []byte("sealed")})
	// Day zero, received at 00:30 KST on the 25th (15:30 UTC on the 24th).
	add("received", store.Quarantine{Device: "k-2", Reason: "malformed", Received: day.Add(30 * time.Minute).UTC()})
	add("unknown", store.Quarantine{Device: "k-9", Reason: "unknown-device", Received: day.Add(time.Hour)})
	add("before", store.Quarantine{Device: "k-1", Reason: "cannot-open", Received: day.Add(-time.Minute), Payload: []byte("kept")})
	add("after", store.Quarantine{Device: "k-1", Reason: "cannot-open", Received: day.AddDate(0, 0, 1), Payload: []byte("kept")})
	// A break entry of Ingest, of the 25th.
	c := newChain(t, "k-1", "v-1", 4)
	ingest(t, s, c.batch(1, 1), 1)
	b := c.batch(3, 4)
	b.Break = &store.Quarantine{Reason: "sequence-gap", Received: day.AddDate(0, 0, 2), Day: day.Add(23 * time.Hour)}
	ingest(t, s, b, 2)

	n, err := s.DropQuarantine(h.ctx, day.Add(12*time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("DropQuarantine = %d, %v; want 4 entries", n, err)
	}
	all, err := s.Quarantined(h.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var left []uint64
	for _, q := range all {
		left = append(left, q.ID)
	}
	if want := []uint64{ids["before"], ids["after"]}; !slices.Equal(left, want) {
		t.Fatalf("entries left %v, want %v (the days before and after)", left, want)
	}
	for _, dev := range []string{"k-2", "k-9"} {
		if qs, err := s.Quarantined(h.ctx, dev); err != nil || len(qs) != 0 {
			t.Fatalf("Quarantined(%s) after the drop = %+v, %v", dev, qs, err)
		}
	}
	checkState(t, s, store.DeviceState{Device: "k-1", LastSeq: 4, LastHash: c.hashes[4], Records: 3, Quarantined: 4, Breaks: 1})
	if n, err := s.DropQuarantine(h.ctx, day); err != nil || n != 0 {
		t.Fatalf("DropQuarantine again = %d, %v; want 0", n, err)
	}
	add("late", store.Quarantine{Device: "k-1", Reason: "day-destroyed", Received: day.Add(2 * time.Hour)})
	if n, err := s.DropQuarantine(h.ctx, day); err != nil || n != 1 {
		t.Fatalf("DropQuarantine of an entry added after the drop = %d, %v; want 1", n, err)
	}
	if qs, _ := s.Quarantined(h.ctx, "k-1"); len(qs) != 2 {
		t.Fatalf("k-1 entries after the drops: %d, want 2", len(qs))
	}
}

// Ensure that QuarantineUsage counts a device's entries and the bytes of
// their payloads, and forgets the entries DropQuarantine deleted.
func testQuarantineUsage(t *testing.T, h *harness) {
	s := h.store("quarantine-usage")
	enroll(t, s, "k-1", "v-1")
	tests := []struct {
		device  string
		payload int
		day     time.Time
	}{
		{"k-1", 100, base},
		{"k-1", 0, base},
		{"k-1", 1 << 16, base.AddDate(0, 0, 1)},
		{"k\x00", 7, base}, // a device id sharing k-1's first byte
		{"k-10", 5, base},
	}
	for _, tt := range tests {
		q := store.Quarantine{Device: tt.device, Reason: "malformed", Received: tt.day, Payload: make([]byte, tt.payload)}
		if _, err := s.AddQuarantine(h.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	check := func(device string, wantN int, wantBytes int64) {
		t.Helper()
		n, size, err := s.QuarantineUsage(h.ctx, device)
		if err != nil || n != wantN || size != wantBytes {
			t.Fatalf("QuarantineUsage(%q) = %d entries, %d bytes, %v; want %d, %d", device, n, size, err, wantN, wantBytes)
		}
	}
	check("k-1", 3, 100+1<<16)
	check("k\x00", 1, 7)
	check("nobody", 0, 0)
	if _, err := s.DropQuarantine(h.ctx, base); err != nil {
		t.Fatal(err)
	}
	check("k-1", 1, 1<<16)
	check("k-10", 0, 0)
	checkState(t, s, store.DeviceState{Device: "k-1", LastHash: checkin.Genesis("k-1"), Quarantined: 3})
}
