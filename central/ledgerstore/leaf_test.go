package ledgerstore_test

import (
	"testing"
	"time"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/ledger"
)

// Ensure that EventLeaf writes the who line from the audit event's Who,
// its time in UTC to the microsecond, and nothing of its case reference
// or reason.
func TestEventLeaf(t *testing.T) {
	seoul := time.FixedZone("KST", 9*60*60)
	for _, tt := range []struct {
		name string
		e    store.AuditEvent
		want string
	}{
		{"who", store.AuditEvent{ID: 9, Time: time.Date(2026, 11, 26, 15, 0, 2, 0, time.UTC), Kind: "trace", Who: "kim.jiwoo",
			Detail: `{"trace":"t-9","case_ref_sha256":"aa","contacts":4}`, CaseRef: "JJ-2026-0042", Reason: "close contacts"},
			"anshim-ledger-leaf/v1 event\nid 9\ntime 2026-11-26T15:00:02Z\nkind trace\nwho kim.jiwoo\ndetail {\"trace\":\"t-9\",\"case_ref_sha256\":\"aa\",\"contacts\":4}\n"},
		{"central's own, KST nanoseconds", store.AuditEvent{ID: 7, Time: time.Date(2026, 11, 27, 0, 0, 0, 123456789, seoul), Kind: "day-destroyed",
			Detail: `{"day":"2026-10-29"}`},
			"anshim-ledger-leaf/v1 event\nid 7\ntime 2026-11-26T15:00:00.123456Z\nkind day-destroyed\ndetail {\"day\":\"2026-10-29\"}\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			leaf, err := ledgerstore.EventLeaf(tt.e)
			if err != nil || string(leaf) != tt.want {
				t.Fatalf("EventLeaf = %q, %v; want %q", leaf, err, tt.want)
			}
		})
	}
}

// Ensure that Record carries every field the stored lines commit to: a
// change to any of them changes StoredHash, and Received (when the central
// stored it) does not.
func TestRecord_StoredHash(t *testing.T) {
	at := time.Date(2026, 11, 20, 14, 58, 0, 0, time.UTC)
	base := store.CheckIn{Device: "k-1", Seq: 3, Venue: "v-1", Kind: checkin.Exit, RawWall: at, Quality: 1,
		Boot: [16]byte{1}, Mono: time.Minute, Time: at, Sealed: []byte{1, 2}, Tag: [16]byte{3}, Hash: [32]byte{4}, Flags: 5, Received: at}
	h0, err := ledgerstore.StoredHash(base)
	if err != nil {
		t.Fatal(err)
	}
	if direct, _ := ledger.StoredHash(ledgerstore.Record(base)); direct != h0 {
		t.Fatal("StoredHash differs from ledger.StoredHash of Record")
	}
	for _, tt := range []struct {
		name string
		edit func(*store.CheckIn)
		same bool
	}{
		{"device", func(c *store.CheckIn) { c.Device = "k-2" }, false},
		{"seq", func(c *store.CheckIn) { c.Seq++ }, false},
		{"venue", func(c *store.CheckIn) { c.Venue = "v-2" }, false},
		{"kind", func(c *store.CheckIn) { c.Kind = checkin.Entry }, false},
		{"quality", func(c *store.CheckIn) { c.Quality = 2 }, false},
		{"flags", func(c *store.CheckIn) { c.Flags = 6 }, false},
		{"raw wall", func(c *store.CheckIn) { c.RawWall = c.RawWall.Add(time.Second) }, false},
		{"boot", func(c *store.CheckIn) { c.Boot[15] = 9 }, false},
		{"mono", func(c *store.CheckIn) { c.Mono++ }, false},
		{"time", func(c *store.CheckIn) { c.Time = c.Time.Add(time.Nanosecond) }, false},
		{"sealed", func(c *store.CheckIn) { c.Sealed = []byte{1, 3} }, false},
		{"tag", func(c *store.CheckIn) { c.Tag[0] = 9 }, false},
		{"hash", func(c *store.CheckIn) { c.Hash[31] = 9 }, false},
		{"received", func(c *store.CheckIn) { c.Received = c.Received.Add(time.Hour) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			c.Sealed = append([]byte(nil), base.Sealed...)
			tt.edit(&c)
			h, err := ledgerstore.StoredHash(c)
			if err != nil {
				t.Fatal(err)
			}
			if (h == h0) != tt.same {
				t.Errorf("hash unchanged = %v, want %v", h == h0, tt.same)
			}
		})
	}
}
