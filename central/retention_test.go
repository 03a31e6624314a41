package central

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
)

// Ensure that the retention job destroys exactly the days older than 28
// KST days, once each, their quarantine entries with them, with an audit
// event per day counting those, and keeps the day-key file private.
func TestRunRetention(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	fi, err := os.Stat(filepath.Join(ts.cfg.DataOrDefault(), DayKeysFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("day-key file: %v %v", fi, err)
	}
	now := ts.clock.Now()
	oldest := ts.dayKeys.Oldest()
	if want := daykeys.DayOf(now) - RetentionDays + 1; oldest != want {
		t.Fatalf("oldest live day %s, want %s", oldest, want)
	}
	if done, err := ts.RunRetention(ctx, now); err != nil || len(done) != 0 {
		t.Fatalf("retention today: %v %v", done, err)
	}
	// Quarantine entries: two of the oldest day, one of the next, one of
	// today; retention drops them with their day.
	for _, d := range []daykeys.Day{oldest, oldest, oldest + 1, daykeys.DayOf(now)} {
		if _, err := ts.store.AddQuarantine(ctx, store.Quarantine{Device: "k-1", Reason: "bad-signature", Received: now, Day: d.Start().Add(time.Hour), Payload: []byte("sealed")}); err != nil {
			t.Fatal(err)
		}
	}
	// A console case with a trace saved on the oldest day and one today:
	// the old one goes with its day (it names the case's pseudonym).
	cid, err := ts.store.AddCase(ctx, store.Case{Ref: "JJ-1", Opener: "kim", Opened: now})
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{oldest.Start().Add(time.Hour), now} {
		if err := ts.store.AddCaseTrace(ctx, store.CaseTrace{ID: fmt.Sprintf("t-%016x", i), Case: cid, Who: "kim", Created: at, Params: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, at := range []time.Time{oldest.Start().Add(time.Hour), now} {
		f := store.FollowUp{Case: "JJ-1", Pseudonym: [16]byte{byte(i + 1)}, Investigator: "kim", Venue: "v-1", Exposed: at, Degree: 1, Created: at}
		if _, err := ts.store.AddFollowUp(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	later := now.Add(3 * 24 * time.Hour)
	done, err := ts.RunRetention(ctx, later)
	if err != nil || len(done) != 3 || done[0] != oldest {
		t.Fatalf("retention three days later: %v %v", done, err)
	}
	if saved, err := ts.store.CaseTraces(ctx, cid); err != nil || len(saved) != 1 || saved[0].ID != fmt.Sprintf("t-%016x", 1) {
		t.Errorf("saved traces after retention: %+v, %v: want only today's", saved, err)
	}
	if fs, err := ts.store.CaseFollowUps(ctx, "JJ-1"); err != nil || len(fs) != 1 || fs[0].Pseudonym != ([16]byte{2}) {
		t.Errorf("follow-ups after retention: %+v, %v: want only today's", fs, err)
	}
	if again, err := ts.RunRetention(ctx, later); err != nil || len(again) != 0 {
		t.Fatalf("second run: %v %v", again, err)
	}
	ev, err := ts.store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ev {
		if e.Kind == store.AuditDayDestroyed {
			n++
			if !strings.Contains(e.Detail, `"day":"`+oldest.String()+`"`) && n == 1 {
				t.Fatalf("first event %s", e.Detail)
			}
			if want := []string{`"quarantined_dropped":2`, `"quarantined_dropped":1`, `"quarantined_dropped":0`}[min(n, 3)-1]; !strings.Contains(e.Detail, want) {
				t.Fatalf("event %d %s: want %s", n, e.Detail, want)
			}
		}
	}
	if n != 3 {
		t.Fatalf("%d day-destroyed events, want 3: %+v", n, ev)
	}
	if qs, err := ts.store.Quarantined(ctx, ""); err != nil || len(qs) != 1 || daykeys.DayOf(qs[0].Day) != daykeys.DayOf(now) {
		t.Fatalf("quarantine after retention: %+v, %v; want today's entry only", qs, err)
	}
}

// Ensure that registry changes — a venue registered, its status changed, a
// kiosk enrolled — leave audit events (and so ledger leaves).
func TestRegistryAudit(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	k := ts.enroll(t, "v-audit")
	if _, err := ts.SetVenueStatus(ctx, "v-audit", "suspended"); err != nil {
		t.Fatal(err)
	}
	ev, err := ts.store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range ev {
		kinds[e.Kind]++
	}
	if kinds[store.AuditVenueRegistered] != 1 || kinds[store.AuditVenueStatus] != 1 || kinds[store.AuditDeviceEnrolled] != 1 {
		t.Fatalf("audit kinds %v", kinds)
	}
	_ = k
}
