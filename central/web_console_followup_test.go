package central

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/followup"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/notify"
)

// Ensure, against a real central, that an investigator puts a case's
// contacts under follow-up from the console, notifies every to-notify
// contact (the message lands in the file sink with the venue and the
// date, without the case's reference or identity; the notification is
// shown sent), that a refused move answers 409 with an error, that a
// contact moved to tested then positive with a new reference opens a new
// console case showing the case it came from, and that /console lists
// the investigator's follow-ups with their statuses and who moved them.
// Every POST carries the page's CSRF token; one without is refused.
func TestConsole_FollowUpNotify(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	_, contact := seedCafeCase(t, ts)

	b := signInInvestigator(t, ts, "kim.epi")
	code, loc, body := b.do("POST", "/console/cases", url.Values{"case_ref": {"JJ-2026-17"}, "phone": {"010 1111 2222"}, "onset": {"2026-03-03"}, "degree": {"2"}})
	if code != http.StatusSeeOther {
		t.Fatalf("open case = %d %s", code, body)
	}
	if _, _, page := b.do("GET", loc, nil); !strings.Contains(page, `id="no-followups"`) {
		t.Fatal("a new case's page does not say no contact is under follow-up")
	}

	// A POST without the page's CSRF token is refused.
	good := b.csrf
	b.csrf = "forged"
	if code, _, _ := b.do("POST", loc+"/followups", url.Values{"set": {"all"}}); code != http.StatusForbidden {
		t.Errorf("follow-up without CSRF = %d, want 403", code)
	}
	b.csrf = good
	if fs, _ := ts.store.CaseFollowUps(ctx, "JJ-2026-17"); len(fs) != 0 {
		t.Fatalf("a forged POST put %d contacts under follow-up", len(fs))
	}

	if code, back, _ := b.do("POST", loc+"/followups", url.Values{"set": {"all"}}); code != http.StatusSeeOther || !strings.Contains(back, "#followup") {
		t.Fatalf("follow-up = %d %q", code, back)
	}
	_, _, page := b.do("GET", loc+"?tab=contacts", nil)
	keys := regexp.MustCompile(`<tr class="followup" data-key="([0-9a-f]{32})" data-status="to-notify">`).FindAllStringSubmatch(page, -1)
	if len(keys) != 1 {
		t.Fatalf("follow-up rows %v, want the one contact to notify", keys)
	}
	key := keys[0][1]
	if strings.Contains(page, "박접촉") || strings.Contains(page, "3333-4444") {
		t.Fatal("the follow-up shows an identity")
	}
	move := loc + "/followups/" + key + "/status"

	// A move the follow-up does not allow: 409 and the error on the page.
	code, _, page = b.do("POST", move, url.Values{"status": {"tested"}})
	if code != http.StatusConflict || !strings.Contains(page, `id="error"`) {
		t.Fatalf("to-notify → tested = %d, want 409 with an error", code)
	}

	ts.clock.Advance(time.Minute)
	if code, _, body := b.do("POST", loc+"/notify", url.Values{"all": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("notify all = %d %s", code, body)
	}
	sink := filepath.Join(ts.cfg.DataOrDefault(), NotifyFile)
	recs, err := notify.ReadSink(sink)
	if err != nil || len(recs) != 1 {
		t.Fatalf("sink = %+v, %v", recs, err)
	}
	if m := recs[0]; m.To != "+821033334444" || !strings.Contains(m.Text, "한라카페") || !strings.Contains(m.Text, "2026년 3월 2일") {
		t.Fatalf("sink record %+v, want the venue and the date", m)
	}
	raw, _ := os.ReadFile(sink)
	for _, secret := range []string{"JJ-2026-17", "김확진", "1111-2222", "11112222", "박접촉"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the sink holds %q", secret)
		}
	}
	ns, err := ts.store.Notifications(ctx, "JJ-2026-17")
	if err != nil || len(ns) != 1 || ns[0].State != store.NotificationSent || ns[0].Who != "kim.epi" {
		t.Fatalf("notifications %+v, %v", ns, err)
	}
	_, _, page = b.do("GET", loc+"?tab=contacts", nil)
	if !strings.Contains(page, `data-key="`+key+`" data-status="notified"`) || !strings.Contains(page, `class="changed">kim.epi`) || !strings.Contains(page, "sent") && !strings.Contains(page, "보냄") {
		t.Fatal("the follow-up does not show the contact notified by kim.epi, the notification sent")
	}

	ts.clock.Advance(time.Hour)
	if code, _, body := b.do("POST", move, url.Values{"status": {"tested"}}); code != http.StatusSeeOther {
		t.Fatalf("notified → tested = %d %s", code, body)
	}
	if code, _, _ := b.do("POST", move, url.Values{"status": {"positive"}}); code != http.StatusConflict {
		t.Fatalf("positive without a new case = %d, want 409", code)
	}
	code, newLoc, body := b.do("POST", move, url.Values{"status": {"positive"}, "new_case": {"JJ-2026-18"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(newLoc, "/console/cases/") || newLoc == loc {
		t.Fatalf("tested → positive = %d %q %s", code, newLoc, body)
	}
	code, _, page = b.do("GET", newLoc, nil)
	if code != http.StatusOK || !regexp.MustCompile(`id="from-case"><a href="`+regexp.QuoteMeta(loc)+`">[^<]*JJ-2026-17`).MatchString(page) {
		t.Fatalf("the new case's page = %d, lacks the link to JJ-2026-17", code)
	}
	open, err := ts.store.OpenCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, c := range open {
		refs = append(refs, c.Ref)
	}
	if len(open) != 2 || open[0].Ref != "JJ-2026-18" || open[0].Opener != "kim.epi" {
		t.Fatalf("open cases %v, want JJ-2026-18 opened by kim.epi and JJ-2026-17", refs)
	}
	f, err := ts.store.FollowUp(ctx, "JJ-2026-17", contact.Pseudonym)
	if err != nil || f.Status != followup.Positive || f.NewCase != "JJ-2026-18" || len(f.History) != 4 {
		t.Fatalf("follow-up %+v, %v", f, err)
	}

	code, _, home := b.do("GET", "/console", nil)
	if code != http.StatusOK || !strings.Contains(home, `id="followup-list"`) {
		t.Fatalf("/console = %d, lacks the follow-up list", code)
	}
	if strings.Index(home, `id="followup-list"`) > strings.Index(home, `id="cases"`) {
		t.Error("the follow-up list is not first on /console")
	}
	if !regexp.MustCompile(`(?s)<tr class="followup" data-status="positive">.*?JJ-2026-17.*?JJ-2026-18.*?class="changed">kim.epi`).MatchString(home) {
		t.Error("the follow-up list lacks the contact, positive, from JJ-2026-17 to JJ-2026-18, moved by kim.epi")
	}

	events, err := ts.store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range events {
		if (e.Kind == AuditContactNotified || e.Kind == AuditFollowUpStatus) && e.Who == "kim.epi" && e.CaseRef == "JJ-2026-17" {
			kinds[e.Kind]++
		}
	}
	if kinds[AuditContactNotified] != 1 || kinds[AuditFollowUpStatus] != 3 {
		t.Errorf("audit events %v, want 1 notification and 3 moves by kim.epi", kinds)
	}
}
