package storetest

import (
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
)

// Ensure that DropDay deletes exactly the check-ins of one KST day, that a
// later batch holding a new record of that day is refused whole with a
// DayDroppedError naming it, that other days and the device state are
// untouched, and that dropping again deletes nothing.
func testDropDay(t *testing.T, h *harness) {
	s := h.store("a")
	enroll(t, s, "k-1", "v-1")
	c := newChain(t, "k-1", "v-1", 9)
	// Spread the records over three KST days: 3 on each.
	kst := time.FixedZone("KST", 9*60*60)
	days := []time.Time{
		time.Date(2026, 11, 24, 12, 0, 0, 0, kst),
		time.Date(2026, 11, 25, 23, 59, 0, 0, kst), // 14:59 UTC: still the 25th in KST
		time.Date(2026, 11, 26, 0, 1, 0, 0, kst),
	}
	for i := range c.recs {
		c.recs[i].Time = days[i/3].Add(time.Duration(i%3) * time.Second).UTC()
	}
	ingest(t, s, c.batch(1, 6), 6)
	n, err := s.DropDay(h.ctx, days[1])
	if err != nil || n != 3 {
		t.Fatalf("DropDay = %d, %v; want 3", n, err)
	}
	got := checkIns(t, s, "k-1", 0)
	if seqs(got) != "1,2,3" {
		t.Fatalf("after dropping day 2: seqs %s", seqs(got))
	}
	// A late redelivery of the dropped day is refused whole, naming the
	// day's records; without them the third day arrives normally.
	var dd *store.DayDroppedError
	if n, err := s.Ingest(h.ctx, c.batch(4, 9)); !errors.As(err, &dd) || n != 0 || !slices.Equal(dd.Seqs, []uint64{4, 5, 6}) {
		t.Fatalf("Ingest of a dropped day = %d, %v; want a DayDroppedError naming 4-6", n, err)
	}
	if got := checkIns(t, s, "k-1", 0); seqs(got) != "1,2,3" {
		t.Fatalf("after the refused batch: seqs %s", seqs(got))
	}
	ingest(t, s, c.batch(7, 9), 3)
	if got := checkIns(t, s, "k-1", 0); seqs(got) != "1,2,3,7,8,9" {
		t.Fatalf("after the late batch: seqs %s", seqs(got))
	}
	if st := state(t, s, "k-1"); st.LastSeq != 9 {
		t.Fatalf("state %+v", st)
	}
	if n, err := s.DropDay(h.ctx, days[1]); err != nil || n != 0 {
		t.Fatalf("dropping again = %d, %v", n, err)
	}
	if n, err := s.DropDay(h.ctx, days[0].AddDate(0, -1, 0)); err != nil || n != 0 {
		t.Fatalf("dropping an empty day = %d, %v", n, err)
	}
}

// Ensure that audit events come back in id order with their fields, also
// after reopening.
func testAudit(t *testing.T, h *harness) {
	s := h.store("a")
	var ids []uint64
	for i, kind := range []string{store.AuditDayDestroyed, "identity-revealed", store.AuditDayDestroyed} {
		id, err := s.AddAudit(h.ctx, store.AuditEvent{Time: base.Add(time.Duration(i) * time.Minute), Kind: kind, Detail: `{"day":"2026-10-29"}`})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && id <= ids[len(ids)-1] {
			t.Fatalf("ids %v then %d: not increasing", ids, id)
		}
		ids = append(ids, id)
	}
	s.close()
	s = h.store("a")
	ev, err := s.Audit(h.ctx)
	if err != nil || len(ev) != 3 {
		t.Fatalf("Audit = %v, %v", ev, err)
	}
	if ev[1].ID != ids[1] || ev[1].Kind != "identity-revealed" || !ev[1].Time.Equal(base.Add(time.Minute)) || ev[1].Detail != `{"day":"2026-10-29"}` {
		t.Fatalf("event %+v", ev[1])
	}
	if ev[0].Who != "" || ev[0].CaseRef != "" || ev[0].Reason != "" {
		t.Fatalf("event without an account: %+v", ev[0])
	}
}

// Ensure that an event's account, case reference and reason are kept in
// the audit trail, that the ledger leaf names the account and holds the
// detail, and that neither the case reference nor the reason is in the
// ledger.
func testAuditAccount(t *testing.T, h *harness) {
	s := h.store("a")
	e := store.AuditEvent{Time: base, Kind: store.AuditIdentityRevealed, Who: "kim.jiwoo",
		Detail:  `{"trace":"t-1","reason_sha256":"ab"}`,
		CaseRef: "JJ-2026-0117 김확진", Reason: "밀접접촉자 확인 close contacts"}
	id, err := s.AddAudit(h.ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	s.close()
	s = h.store("a")
	ev, err := s.Audit(h.ctx)
	if err != nil || len(ev) != 1 {
		t.Fatalf("Audit = %+v, %v", ev, err)
	}
	e.ID = id
	if got := ev[0]; got.ID != e.ID || !got.Time.Equal(e.Time) || got.Kind != e.Kind || got.Who != e.Who ||
		got.Detail != e.Detail || got.CaseRef != e.CaseRef || got.Reason != e.Reason {
		t.Fatalf("event %+v, want %+v", got, e)
	}
	size, err := s.LedgerSize(h.ctx)
	if err != nil || size != 1 {
		t.Fatalf("LedgerSize = %d, %v", size, err)
	}
	leaves, err := s.LedgerLeaves(h.ctx, 0, 1)
	if err != nil || len(leaves) != 1 {
		t.Fatalf("LedgerLeaves = %q, %v", leaves, err)
	}
	leaf := string(leaves[0])
	for _, want := range []string{"\nwho kim.jiwoo\n", "\ndetail " + e.Detail + "\n"} {
		if !strings.Contains(leaf, want) {
			t.Errorf("leaf %q lacks %q", leaf, want)
		}
	}
	for _, secret := range []string{"JJ-2026", "김확진", "밀접", "close contacts"} {
		if strings.Contains(leaf, secret) {
			t.Errorf("leaf %q holds %q", leaf, secret)
		}
	}
}

// Ensure that a store is bound to the first day-key fingerprint it is
// given, keeps it across reopening and against another, is bound to
// another only when replacing, and that concurrent first binds agree.
func testBindDayKeys(t *testing.T, h *harness) {
	s := h.store("a")
	f1, f2 := sha256.Sum256([]byte("ratchet 1")), sha256.Sum256([]byte("ratchet 2"))
	for _, tt := range []struct {
		fp      [32]byte
		replace bool
		want    [32]byte
	}{
		{f1, false, f1}, {f1, false, f1}, {f2, false, f1},
	} {
		if got, err := s.BindDayKeys(h.ctx, tt.fp, tt.replace); err != nil || got != tt.want {
			t.Fatalf("BindDayKeys(%x, %v) = %x, %v; want %x", tt.fp[:4], tt.replace, got[:4], err, tt.want[:4])
		}
	}
	s.close()
	s = h.store("a")
	if got, err := s.BindDayKeys(h.ctx, f2, false); err != nil || got != f1 {
		t.Fatalf("after reopening: %x, %v; want the first binding", got[:4], err)
	}
	if got, err := s.BindDayKeys(h.ctx, f2, true); err != nil || got != f2 {
		t.Fatalf("replace: %x, %v", got[:4], err)
	}
	if got, err := s.BindDayKeys(h.ctx, f1, false); err != nil || got != f2 {
		t.Fatalf("after replacing: %x, %v; want the new binding", got[:4], err)
	}

	c := h.store("b")
	var wg sync.WaitGroup
	got := make([][32]byte, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fp := sha256.Sum256([]byte{byte(i)})
			var err error
			if got[i], err = c.BindDayKeys(h.ctx, fp, false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("concurrent first binds answered %x and %x", got[0][:4], got[i][:4])
		}
	}
}
