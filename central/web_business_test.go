package central

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

// owner is a business owner's browser on a test central.
type owner struct {
	t    *testing.T
	ts   *testServer
	c    *http.Client
	csrf string
}

// newOwner makes the business account name and signs it in.
func newOwner(t *testing.T, ts *testServer, wb *web.Web, name string) *owner {
	t.Helper()
	const pw = "owner test password"
	if _, err := wb.AddAccount(context.Background(), web.NewAccount{Name: name, Role: web.RoleBusiness, Phone: "010-1234-5678", Password: pw}, name); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	o := &owner{t: t, ts: ts, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := o.do("GET", "/signin", nil)
	o.csrf = csrfField.FindStringSubmatch(body)[1]
	ts.clock.Advance(7 * time.Minute) // the sign-in limit refills
	if code, _ := o.do("POST", "/signin", url.Values{"name": {name}, "password": {pw}}); code != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d", name, code)
	}
	_, body = o.do("GET", "/business", nil)
	o.csrf = csrfField.FindStringSubmatch(body)[1]
	return o
}

// do sends a request (a POST with form and the CSRF token) and returns
// the status and body.
func (o *owner) do(method, path string, form url.Values) (int, string) {
	o.t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("csrf", o.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, o.ts.HTTPURL()+path, body)
	if err != nil {
		o.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := o.c.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func application(number string) url.Values {
	return url.Values{"name": {"카페 한라"}, "business_number": {number}, "category": {"cafe"}, "address": {"제주시 중앙로 1"},
		"lat": {"33.4996"}, "lon": {"126.5312"}, "owner_phone": {"064-700-1234"}}
}

var fieldError = regexp.MustCompile(`id="([a-z_]+)-error"`)

// Ensure that an application is checked field by field, stored as an
// applied venue of its owner alone, shown with its rejection reason, and
// that an edit is an audit event which applies a rejected venue again.
func TestBusinessPortal_ApplyEdit(t *testing.T) {
	ts := startServer(t)
	wb, err := web.New(ts.store, web.Options{Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	park, kim := newOwner(t, ts, wb, "park.owner"), newOwner(t, ts, wb, "kim.owner")
	ctx := context.Background()

	for _, tt := range []struct {
		name   string
		change func(url.Values)
		fields []string
	}{
		{"wrong check digit", func(f url.Values) { f.Set("business_number", "123-45-67890") }, []string{"business_number"}},
		{"outside Korea", func(f url.Values) { f.Set("lat", "40.1") }, []string{"lat"}},
		{"no category, bad phone", func(f url.Values) { f.Del("category"); f.Set("owner_phone", "1") }, []string{"category", "owner_phone"}},
	} {
		f := application("123-45-67891")
		tt.change(f)
		code, body := park.do("POST", "/business/apply", f)
		var got []string
		for _, m := range fieldError.FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
		}
		if code != http.StatusBadRequest || !slices.Equal(got, tt.fields) {
			t.Errorf("%s: %d, errors beside %v; want 400 beside %v", tt.name, code, got, tt.fields)
		}
	}
	if code, _ := park.do("POST", "/business/apply", application("123-45-67891")); code != http.StatusSeeOther {
		t.Fatalf("a good application: %d, want 303", code)
	}
	const id = "b1234567891"
	if code, body := kim.do("POST", "/business/apply", application("1234567891")); code != http.StatusConflict || !strings.Contains(body, `id="business_number-error"`) {
		t.Errorf("the same number again: %d, want 409 beside the number", code)
	}
	if a, err := ts.store.Account(ctx, "park.owner"); err != nil || !slices.Equal(a.Venues, []string{id}) {
		t.Errorf("park.owner's venues: %v, %v", a.Venues, err)
	}
	if code, _ := kim.do("GET", "/business/venues/"+id, nil); code != http.StatusNotFound {
		t.Errorf("another owner's venue page: %d, want 404", code)
	}
	if code, _ := kim.do("POST", "/business/venues/"+id+"/edit", url.Values{"name": {"X"}, "address": {"Y"}, "category": {"bar"}}); code != http.StatusNotFound {
		t.Errorf("another owner's edit: %d, want 404", code)
	}
	for _, p := range []string{"/poster.pdf", "/poster.png"} {
		if code, _ := park.do("GET", "/business/venues/"+id+p, nil); code != http.StatusConflict {
			t.Errorf("%s of an applied venue: %d, want 409", p, code)
		}
	}

	if _, err := ts.ReviewVenue(withAccount(ctx, fileAdmin), id, registry.StatusRejected, "사업자등록증 사본이 흐립니다"); err != nil {
		t.Fatal(err)
	}
	if _, body := park.do("GET", "/business/venues/"+id, nil); !strings.Contains(body, "사업자등록증 사본이 흐립니다") {
		t.Error("the venue page does not show the rejection's reason")
	}
	if code, body := park.do("POST", "/business/venues/"+id+"/edit", url.Values{"name": {""}, "address": {"제주시 1"}, "category": {"bar"}}); code != http.StatusBadRequest || !strings.Contains(body, `id="name-error"`) {
		t.Errorf("an edit without a name: %d, want 400 beside the name", code)
	}
	if code, _ := park.do("POST", "/business/venues/"+id+"/edit", url.Values{"name": {"카페 한라 본점"}, "address": {"제주시 중앙로 2"}, "category": {"bar"}, "default_stay": {"90"}}); code != http.StatusSeeOther {
		t.Fatalf("an edit: %d, want 303", code)
	}
	v, err := ts.store.Venue(ctx, id)
	if err != nil || v.Name != "카페 한라 본점" || v.Address != "제주시 중앙로 2" || v.Category != registry.Bar || v.DefaultStay != 90 || v.Status != registry.StatusApplied {
		t.Errorf("after the edit: %+v, %v; want the new details, applied again", v, err)
	}
	events, err := ts.store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var edited bool
	for _, e := range events {
		if e.Kind == AuditVenueEdited && e.Who == "park.owner" && strings.Contains(e.Detail, "카페 한라 본점") && strings.Contains(e.Detail, `"default_stay":[45,90]`) {
			edited = true
		}
	}
	if !edited {
		t.Errorf("no %s audit event by park.owner with the changes in %+v", AuditVenueEdited, events)
	}
}

// Ensure that an owner makes an enrollment token of an approved venue,
// sees it once, and revokes it, after which it enrolls nothing; a used
// token cannot be revoked.
func TestBusinessPortal_Tokens(t *testing.T) {
	ts := startServer(t)
	wb, err := web.New(ts.store, web.Options{Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	park := newOwner(t, ts, wb, "park.owner")
	ctx := context.Background()
	if code, _ := park.do("POST", "/business/apply", application("123-45-67891")); code != http.StatusSeeOther {
		t.Fatalf("apply: %d", code)
	}
	const id = "b1234567891"
	if code, _ := park.do("POST", "/business/venues/"+id+"/tokens", url.Values{}); code != http.StatusConflict {
		t.Errorf("a token of an applied venue: %d, want 409", code)
	}
	if _, err := ts.ReviewVenue(withAccount(ctx, fileAdmin), id, registry.StatusApproved, ""); err != nil {
		t.Fatal(err)
	}
	newToken := func() string {
		t.Helper()
		code, body := park.do("POST", "/business/venues/"+id+"/tokens", url.Values{})
		m := regexp.MustCompile(`<code>([0-9a-f]{32})</code>`).FindStringSubmatch(body)
		if code != http.StatusOK || m == nil || !strings.Contains(body, `src="data:image/png;base64,`) {
			t.Fatalf("new token: %d, token %v, want 200 with the token and its QR code", code, m)
		}
		return m[1]
	}
	tok := newToken()
	h := sha256.Sum256([]byte(tok))
	if _, body := park.do("GET", "/business/venues/"+id, nil); strings.Contains(body, tok) || !strings.Contains(body, hex.EncodeToString(h[:4])) {
		t.Error("the venue page shows the token's text again, or does not list it")
	}
	if code, _ := park.do("POST", "/business/venues/"+id+"/tokens/"+hex.EncodeToString(h[:])+"/revoke", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d, want 303", code)
	}
	k := newTestKiosk(t)
	if _, err := ts.Enroll(ctx, k.request(tok)); !errors.Is(err, ErrBadToken) {
		t.Errorf("enroll with a revoked token: %v, want ErrBadToken", err)
	}

	used := newToken()
	if _, err := ts.Enroll(ctx, newTestKiosk(t).request(used)); err != nil {
		t.Fatal(err)
	}
	hu := sha256.Sum256([]byte(used))
	if code, _ := park.do("POST", "/business/venues/"+id+"/tokens/"+hex.EncodeToString(hu[:])+"/revoke", url.Values{}); code != http.StatusNotFound {
		t.Errorf("revoke a used token: %d, want 404", code)
	}
	events, _ := ts.store.Audit(ctx)
	var issued, revoked int
	for _, e := range events {
		switch e.Kind {
		case AuditEnrollTokenIssued:
			issued++
		case AuditEnrollTokenRevoked:
			revoked++
		}
	}
	if issued != 2 || revoked != 1 {
		t.Errorf("audit: %d tokens issued, %d revoked; want 2 and 1", issued, revoked)
	}

	// The kiosk's latest status report shows on the venue's page.
	devices, err := ts.store.Devices(ctx)
	if err != nil || len(devices) != 1 {
		t.Fatalf("devices: %+v, %v", devices, err)
	}
	if _, body := park.do("GET", "/business/venues/"+id, nil); !strings.Contains(body, devices[0].ID) || !strings.Contains(body, "아직 상태 보고 없음") {
		t.Error("the venue page does not list the kiosk without a report")
	}
	sent := ts.clock.Now().Add(-time.Minute)
	report, err := wire.DeviceStatus{V: wire.StatusVersion, Sent: sent, Clock: "rtc", Backlog: 37, OldestUnsynced: sent.Add(-2 * time.Hour), Version: "test"}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.store.PutDeviceStatus(ctx, store.DeviceStatus{Device: devices[0].ID, Received: ts.clock.Now(), Report: report}); err != nil {
		t.Fatal(err)
	}
	_, body := park.do("GET", "/business/venues/"+id, nil)
	for _, want := range []string{`<dd class="backlog">37 · 가장 오래된 것 2026-03-02 16:`, "내장 시계 (RTC)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the venue page lacks %q of the kiosk's report", want)
		}
	}
	list, err := businessOps{ts.Server}.Tokens(ctx, id)
	if err != nil || len(list) != 1 || !list[0].Used {
		t.Errorf("tokens after: %+v, %v; want the used one alone", list, err)
	}
}

// Ensure that the daily counts are the venue's entries by KST day over
// the days asked for: a record just after midnight KST counts for that
// day, exits and other venues' records do not, nor days before the first.
func TestBusinessOps_DailyCheckIns(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	b := businessOps{ts.Server}
	now := ts.clock.Now().In(kst) // 2026-03-02 18:00 KST
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, kst)
	for _, d := range []store.Device{{ID: "k-1", Venue: "v-1"}, {ID: "k-2", Venue: "v-1"}, {ID: "k-3", Venue: "v-other"}} {
		if err := ts.store.AddDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	ingest := func(device, venue string, recs ...store.CheckIn) {
		t.Helper()
		for i := range recs {
			recs[i].Device, recs[i].Venue, recs[i].Seq = device, venue, uint64(i+1)
			recs[i].RawWall, recs[i].Received = recs[i].Time, recs[i].Time
			if recs[i].Kind == 0 {
				recs[i].Kind = checkin.Entry
			}
		}
		if _, err := ts.store.Ingest(ctx, store.Batch{Device: device, Records: recs, LastSeq: uint64(len(recs))}); err != nil {
			t.Fatal(err)
		}
	}
	ingest("k-1", "v-1",
		store.CheckIn{Time: today.AddDate(0, 0, -28).Add(23 * time.Hour)}, // the day before the first
		store.CheckIn{Time: today.AddDate(0, 0, -27).Add(time.Hour)},      // the first day
		store.CheckIn{Time: today.Add(-time.Minute)},                      // yesterday, 23:59 KST
		store.CheckIn{Time: today.Add(30 * time.Minute)},                  // today, 00:30 KST (yesterday in UTC)
		store.CheckIn{Time: today.Add(31 * time.Minute), Kind: checkin.Exit},
	)
	ingest("k-2", "v-1", store.CheckIn{Time: today.Add(17 * time.Hour)})
	ingest("k-3", "v-other", store.CheckIn{Time: today.Add(time.Hour)})

	got, err := b.DailyCheckIns(ctx, "v-1", 28)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 28 || !got[0].Day.Equal(today.AddDate(0, 0, -27)) || !got[27].Day.Equal(today) {
		t.Fatalf("%d days from %v to %v, want 28 ending %v", len(got), got[0].Day, got[len(got)-1].Day, today)
	}
	want := map[int]int{0: 1, 26: 1, 27: 2}
	for i, d := range got {
		if d.Count != want[i] {
			t.Errorf("day %d (%s): %d check-ins, want %d", i, d.Day.Format("01-02"), d.Count, want[i])
		}
	}
	if _, err := b.DailyCheckIns(ctx, "v-1", 0); err == nil {
		t.Error("0 days: no error")
	}
}
