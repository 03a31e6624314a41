package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/followup"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/notify"
)

// pseudonym returns a pseudonym whose bytes are all b.
func pseudonym(b byte) (p [16]byte) {
	for i := range p {
		p[i] = b
	}
	return p
}

// Ensure that follow-ups are stored as ToNotify with their creation in
// their history, listed per investigator and per case in (case,
// pseudonym) order, moved only as central/followup allows with who and
// when kept, that a positive contact needs its new case, and that all of
// it survives reopening.
func testFollowUps(t *testing.T, h *harness) {
	s := h.store("a")
	if list, err := s.FollowUpsOf(h.ctx, "kim.jiwoo"); err != nil || len(list) != 0 {
		t.Fatalf("FollowUpsOf of an empty store = %v, %v", list, err)
	}
	if _, err := s.FollowUp(h.ctx, "2026-17", pseudonym(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FollowUp of an empty store: %v, want ErrNotFound", err)
	}
	if _, err := s.SetFollowUpStatus(h.ctx, "2026-17", pseudonym(1), followup.Notified, "kim.jiwoo", "", base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetFollowUpStatus of an empty store: %v, want ErrNotFound", err)
	}
	exposed := base.Add(-48 * time.Hour)
	add := []store.FollowUp{
		{Case: "2026-17", Pseudonym: pseudonym(2), Investigator: "kim.jiwoo", Venue: "v-cafe-1", Exposed: exposed, Degree: 1, Created: base},
		{Case: "2026-17", Pseudonym: pseudonym(1), Investigator: "kim.jiwoo", Venue: "v-cafe-1", Exposed: exposed, Degree: 2, Created: base,
			Status: followup.Cleared, NewCase: "ignored"}, // status and new case are the store's
		{Case: "2026-03", Pseudonym: pseudonym(1), Investigator: "kim.jiwoo", Venue: "v-bar-2", Exposed: exposed, Degree: 1, Created: base},
		{Case: "2026-17", Pseudonym: pseudonym(3), Investigator: "choi.minji", Venue: "v-cafe-1", Exposed: exposed, Degree: 1, Created: base},
	}
	for _, f := range add {
		got, err := s.AddFollowUp(h.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want := f
		want.Status, want.NewCase, want.Updated = followup.ToNotify, "", base
		want.History = []store.StatusChange{{To: followup.ToNotify, Who: f.Investigator, At: base}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("AddFollowUp = %+v, want %+v", got, want)
		}
	}
	if _, err := s.AddFollowUp(h.ctx, add[0]); !errors.Is(err, store.ErrExists) {
		t.Fatalf("adding a case's contact again: %v, want ErrExists", err)
	}

	p := pseudonym(2)
	t1, t2, t3 := base.Add(time.Hour), base.Add(2*time.Hour), base.Add(3*time.Hour)
	for _, tc := range []struct {
		to      followup.Status
		who     string
		newCase string
		at      time.Time
		err     func(error) bool
	}{
		{followup.Tested, "kim.jiwoo", "", t1, func(err error) bool { return errors.As(err, new(*followup.TransitionError)) }},
		{followup.Notified, "kim.jiwoo", "", t1, nil},
		{followup.Tested, "lee.admin", "", t2, nil},
		{followup.Positive, "kim.jiwoo", "", t3, func(err error) bool { return errors.Is(err, store.ErrInvalidFollowUp) }},
		{followup.Negative, "kim.jiwoo", "2026-18", t3, func(err error) bool { return errors.Is(err, store.ErrInvalidFollowUp) }},
		{followup.Positive, "kim.jiwoo", "2026-18", t3, nil},
		{followup.Tested, "kim.jiwoo", "", t3, func(err error) bool { return errors.As(err, new(*followup.TransitionError)) }},
	} {
		got, err := s.SetFollowUpStatus(h.ctx, "2026-17", p, tc.to, tc.who, tc.newCase, tc.at)
		switch {
		case tc.err == nil && err != nil:
			t.Fatalf("move to %s: %v", tc.to, err)
		case tc.err != nil && !tc.err(err):
			t.Fatalf("move to %s: %v, want it refused", tc.to, err)
		case tc.err == nil && (got.Status != tc.to || !got.Updated.Equal(tc.at) || got.History[len(got.History)-1].Who != tc.who):
			t.Fatalf("move to %s = %+v", tc.to, got)
		}
	}
	wantHistory := []store.StatusChange{
		{To: followup.ToNotify, Who: "kim.jiwoo", At: base},
		{From: followup.ToNotify, To: followup.Notified, Who: "kim.jiwoo", At: t1},
		{From: followup.Notified, To: followup.Tested, Who: "lee.admin", At: t2},
		{From: followup.Tested, To: followup.Positive, Who: "kim.jiwoo", At: t3},
	}

	// Concurrent moves from one status: one succeeds.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.SetFollowUpStatus(h.ctx, "2026-03", pseudonym(1), followup.Notified, "kim.jiwoo", "", t1)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.As(err, new(*followup.TransitionError)):
			t.Errorf("concurrent move: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent moves from to-notify succeeded, want 1", ok)
	}

	s.close()
	s = h.store("a")
	got, err := s.FollowUp(h.ctx, "2026-17", p)
	if err != nil || got.NewCase != "2026-18" || got.Status != followup.Positive || !reflect.DeepEqual(got.History, wantHistory) {
		t.Fatalf("FollowUp after reopening = %+v, %v; want positive, new case 2026-18, history %+v", got, err, wantHistory)
	}
	mine, err := s.FollowUpsOf(h.ctx, "kim.jiwoo")
	if err != nil || len(mine) != 3 {
		t.Fatalf("FollowUpsOf = %+v, %v", mine, err)
	}
	for i, want := range []struct {
		c string
		p byte
	}{{"2026-03", 1}, {"2026-17", 1}, {"2026-17", 2}} {
		if mine[i].Case != want.c || mine[i].Pseudonym != pseudonym(want.p) {
			t.Errorf("FollowUpsOf[%d] = %s %x, want %s %x", i, mine[i].Case, mine[i].Pseudonym[:1], want.c, want.p)
		}
	}
	if cs, err := s.CaseFollowUps(h.ctx, "2026-17"); err != nil || len(cs) != 3 || cs[2].Investigator != "choi.minji" {
		t.Fatalf("CaseFollowUps = %+v, %v", cs, err)
	}
	if cs, err := s.CaseFollowUps(h.ctx, "2026-1"); err != nil || len(cs) != 0 {
		t.Fatalf("CaseFollowUps of a prefix of a case = %+v, %v; want none", cs, err)
	}
}

// Ensure that notifications are stored with every attempt, replaced by
// ID, listed per case in (Created, ID) order, and kept over reopening.
func testNotifications(t *testing.T, h *harness) {
	s := h.store("a")
	if list, err := s.Notifications(h.ctx, "2026-17"); err != nil || len(list) != 0 {
		t.Fatalf("Notifications of an empty store = %v, %v", list, err)
	}
	n1 := store.Notification{ID: "n-2", Case: "2026-17", Pseudonym: pseudonym(7), Who: "kim.jiwoo",
		State: store.NotificationPending, Created: base, Updated: base}
	n2 := store.Notification{ID: "n-1", Case: "2026-17", Pseudonym: pseudonym(8), Who: "kim.jiwoo",
		State: store.NotificationFailed, Error: "gave up", Created: base.Add(time.Minute), Updated: base.Add(time.Minute),
		Attempts: []notify.Attempt{{N: 1, At: base, Status: 503, Err: "503"}}}
	other := store.Notification{ID: "n-3", Case: "2026-18", Pseudonym: pseudonym(7), Who: "kim.jiwoo", State: store.NotificationSent, Created: base, Updated: base}
	for _, n := range []store.Notification{n1, n2, other} {
		if err := s.PutNotification(h.ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	n1.State, n1.Receipt, n1.Updated = store.NotificationSent, "gw-42", base.Add(time.Second)
	n1.Attempts = []notify.Attempt{{N: 1, At: base, Status: 500, Err: "HTTP 500"}, {N: 2, At: base.Add(time.Second), Status: 200}}
	if err := s.PutNotification(h.ctx, n1); err != nil {
		t.Fatal(err)
	}
	s.close()
	s = h.store("a")
	list, err := s.Notifications(h.ctx, "2026-17")
	if err != nil || len(list) != 2 {
		t.Fatalf("Notifications = %+v, %v", list, err)
	}
	for i, want := range []store.Notification{n1, n2} {
		if !reflect.DeepEqual(list[i], want) {
			t.Errorf("Notifications[%d] = %+v\nwant %+v", i, list[i], want)
		}
	}
}

// testFollowUpRetention: follow-ups and notifications created before the
// cut go with their days (they name contacts' pseudonyms); later ones stay.
func testFollowUpRetention(t *testing.T, h *harness) {
	s := h.store("a")
	for i, at := range []time.Time{base.Add(-time.Hour), base} {
		f := store.FollowUp{Case: "2026-17", Pseudonym: pseudonym(byte(i + 1)), Investigator: "kim.jiwoo", Venue: "v-cafe-1", Exposed: at, Degree: 1, Created: at}
		if _, err := s.AddFollowUp(h.ctx, f); err != nil {
			t.Fatal(err)
		}
		n := store.Notification{ID: fmt.Sprintf("n-%d", i), Case: "2026-17", Pseudonym: pseudonym(byte(i + 1)), Who: "kim.jiwoo", State: store.NotificationSent, Created: at, Updated: at}
		if err := s.PutNotification(h.ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	nf, nn, err := s.DropFollowUps(h.ctx, base)
	if err != nil || nf != 1 || nn != 1 {
		t.Fatalf("DropFollowUps = %d, %d, %v: want 1, 1", nf, nn, err)
	}
	fs, err := s.CaseFollowUps(h.ctx, "2026-17")
	if err != nil || len(fs) != 1 || fs[0].Pseudonym != pseudonym(2) {
		t.Errorf("follow-ups left: %+v, %v: want only the later one", fs, err)
	}
	ns, err := s.Notifications(h.ctx, "2026-17")
	if err != nil || len(ns) != 1 || ns[0].ID != "n-1" {
		t.Errorf("notifications left: %+v, %v: want only n-1", ns, err)
	}
	if nf, nn, err := s.DropFollowUps(h.ctx, base); err != nil || nf+nn != 0 {
		t.Errorf("DropFollowUps again = %d, %d, %v: want 0, 0", nf, nn, err)
	}
}
