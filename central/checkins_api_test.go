package central

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/anshim/anshim/central/appcheckin"
	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/sync/wire"
	"github.com/anshim/anshim/venuecode"
)

// postCheckIn sends an app check-in and returns the status and answer.
func (ts *testServer) postCheckIn(t *testing.T, req map[string]any) (int, appcheckin.Result) {
	t.Helper()
	body, _ := json.Marshal(req)
	resp, err := http.Post(ts.HTTPURL()+"/v1/checkins", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res appcheckin.Result
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, res
}

// issuePass issues an app pass for a new person, valid at the clock's time
// unless expires is given.
func (ts *testServer) issuePass(t *testing.T, serial uint32, expires time.Time) (string, pass.Pass) {
	t.Helper()
	now := ts.clock.Now().Truncate(time.Second)
	p := pass.Pass{Kind: pass.KindApp, Serial: serial, Issued: now.Add(-time.Hour), Expires: now.Add(365 * 24 * time.Hour)}
	p.Pseudonym[0], p.Pseudonym[1] = byte(serial), byte(serial>>8)
	if !expires.IsZero() {
		p.Expires = expires
	}
	text, err := ts.keys.Signer().Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	return text, p
}

// displayCode signs a display code as a kiosk would.
func displayCode(t *testing.T, key ed25519.PrivateKey, device, venue string, period uint64) string {
	t.Helper()
	text, err := venuecode.SignDisplay(key, venuecode.Display{Device: device, Venue: venue, Length: 30 * time.Second, Period: period})
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// Ensure that POST /v1/checkins accepts good display and poster check-ins,
// rejects each bad one with its reason, flags far posters and impossible
// travel, and keeps the flags in the stored check-ins.
func TestCheckIns_API(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	k := ts.enroll(t, "v1") // at 33.5113 N 126.4930 E (Jeju city)
	dev := k.enr.Device
	// v3 is in Seogwipo, 29 km away; it has a poster.
	reg3 := testRegistration("v3", registry.StatusApproved)
	reg3.Location = registry.Location{Lat: 33.2541, Lon: 126.5601}
	if code := ts.do(t, "POST", "/v1/venues", reg3, true, nil); code != http.StatusCreated {
		t.Fatalf("add v3: %d", code)
	}
	var poster1, poster3 Poster
	if code := ts.do(t, "POST", "/v1/venues/v1/poster", nil, true, &poster1); code != http.StatusCreated {
		t.Fatalf("poster: %d", code)
	}
	ts.do(t, "POST", "/v1/venues/v3/poster", nil, true, &poster3)

	now := ts.clock.Now()
	cur := venuecode.PeriodOf(now, 30*time.Second)
	good := displayCode(t, k.key, dev, "v1", cur)
	_, otherKey, _ := ed25519.GenerateKey(nil)

	revokedText, revokedPass := ts.issuePass(t, 900, time.Time{})
	if err := ts.Revoke(ctx, revokedPass.RevocationID()); err != nil {
		t.Fatal(err)
	}
	expiredText, _ := ts.issuePass(t, 901, now.Add(-time.Minute).Truncate(time.Second))

	// Jeju city hall fix, and one 1 km north of v1.
	near := map[string]any{"lat": 33.5114, "lon": 126.4931, "accuracy": 10}
	far := map[string]any{"lat": 33.5203, "lon": 126.4930, "accuracy": 20}
	farVague := map[string]any{"lat": 33.5203, "lon": 126.4930, "accuracy": 600}
	with := func(passText, code string, loc map[string]any) map[string]any {
		m := map[string]any{"pass": passText, "code": code}
		for k, v := range loc {
			m[k] = v
		}
		return m
	}

	type stored struct{ flags uint32 }
	tests := []struct {
		name   string
		serial uint32 // the pass of a new person, unless pass is set
		pass   string
		code   string
		loc    map[string]any
		status int
		reason string
		flags  []string
		want   *stored // the check-in stored, with these flags
	}{
		{name: "display accepted", serial: 1, code: good, loc: near, status: 200, want: &stored{}},
		{name: "display without GPS accepted", serial: 2, code: good, status: 200, want: &stored{}},
		{name: "previous period", serial: 3, code: displayCode(t, k.key, dev, "v1", cur-1), status: 200, want: &stored{}},
		{name: "stale period", serial: 4, code: displayCode(t, k.key, dev, "v1", cur-2), status: 403, reason: "stale-period"},
		{name: "future period", serial: 5, code: displayCode(t, k.key, dev, "v1", cur+2), status: 403, reason: "stale-period"},
		{name: "wrong venue", serial: 6, code: displayCode(t, k.key, dev, "v3", cur), status: 403, reason: "wrong-venue"},
		{name: "unknown device", serial: 7, code: displayCode(t, otherKey, wire.DeviceID(otherKey.Public().(ed25519.PublicKey)), "v1", cur), status: 403, reason: "unknown-device"},
		{name: "app device signs nothing", serial: 8, code: displayCode(t, otherKey, "app-v1", "v1", cur), status: 403, reason: "unknown-device"},
		{name: "forged signature", serial: 9, code: displayCode(t, otherKey, dev, "v1", cur), status: 403, reason: "bad-signature"},
		{name: "not a code", serial: 10, code: "HELLO", status: 403, reason: "malformed-code"},
		{name: "revoked pass", pass: revokedText, code: good, status: 403, reason: "pass-revoked"},
		{name: "expired pass", pass: expiredText, code: good, status: 403, reason: "pass-expired"},
		{name: "not a pass", pass: "AN1:XYZ", code: good, status: 403, reason: "pass-malformed"},
		{name: "bad location", serial: 11, code: good, loc: map[string]any{"lat": 95.0, "lon": 126.0}, status: 400, reason: "bad-location"},
		{name: "poster near", serial: 12, code: poster1.Poster, loc: near, status: 200, want: &stored{}},
		{name: "poster far: suspect", serial: 13, code: poster1.Poster, loc: far, status: 200, flags: []string{"suspect"}, want: &stored{store.FlagSuspect}},
		{name: "poster far, vague fix", serial: 14, code: poster1.Poster, loc: farVague, status: 200, want: &stored{}},
		{name: "poster without GPS: suspect", serial: 15, code: poster1.Poster, status: 200, flags: []string{"suspect"}, want: &stored{store.FlagSuspect}},
		{name: "poster forged", serial: 16, code: poster1.Poster[:len(poster1.Poster)-3] + "000", loc: near, status: 403},
	}
	var wantStored []stored
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.pass
			if text == "" {
				text, _ = ts.issuePass(t, tc.serial, time.Time{})
			}
			status, res := ts.postCheckIn(t, with(text, tc.code, tc.loc))
			if status != tc.status || (tc.reason != "" && res.Reason != tc.reason) {
				t.Fatalf("status %d reason %q (%s), want %d %q", status, res.Reason, res.Detail, tc.status, tc.reason)
			}
			wantFlags := tc.flags
			if wantFlags == nil {
				wantFlags = []string{}
			}
			if status == 200 && (res.Result != "accepted" || !slices.Equal(res.Flags, wantFlags) || res.Venue == "") {
				t.Fatalf("answer %+v, want flags %v", res, wantFlags)
			}
			if status != 200 && res.Result != "rejected" {
				t.Fatalf("answer %+v", res)
			}
		})
		if tc.want != nil {
			wantStored = append(wantStored, *tc.want)
		}
	}

	// Impossible travel: v1 at 09:00, v3 (29 km) a minute later.
	text, p := ts.issuePass(t, 100, time.Time{})
	if status, res := ts.postCheckIn(t, with(text, good, near)); status != 200 || len(res.Flags) != 0 {
		t.Fatalf("first: %d %+v", status, res)
	}
	ts.clock.Advance(time.Minute)
	at3 := map[string]any{"lat": 33.2541, "lon": 126.5601, "accuracy": 5}
	status, res := ts.postCheckIn(t, with(text, poster3.Poster, at3))
	if status != 200 || !slices.Equal(res.Flags, []string{"impossible-travel"}) {
		t.Fatalf("travel: %d %+v", status, res)
	}
	// Two hours later the same trip is believable.
	ts.clock.Advance(2 * time.Hour)
	if status, res := ts.postCheckIn(t, with(text, poster1.Poster, near)); status != 200 || len(res.Flags) != 0 {
		t.Fatalf("slow travel: %d %+v", status, res)
	}

	// What was stored: v1's app device holds the accepted check-ins in
	// order with their flags, sealed under the day key and tagged.
	var got []store.CheckIn
	if err := ts.store.CheckIns(ctx, "app-v1", 1, func(c store.CheckIn) bool { got = append(got, c); return true }); err != nil {
		t.Fatal(err)
	}
	wantStored = append(wantStored, stored{}, stored{}) // the traveller at v1, twice
	if len(got) != len(wantStored) {
		t.Fatalf("stored %d check-ins at app-v1, want %d", len(got), len(wantStored))
	}
	prev := checkin.Genesis("app-v1")
	for i, c := range got {
		if c.Seq != uint64(i+1) || c.Venue != "v1" || c.Flags != wantStored[i].flags || c.Kind != checkin.Entry {
			t.Errorf("check-in %d: seq %d venue %s flags %b, want flags %b", i, c.Seq, c.Venue, c.Flags, wantStored[i].flags)
		}
		if !store.Flagged(c.Flags) != (wantStored[i].flags == 0) {
			t.Errorf("check-in %d: Flagged(%b) wrong", i, c.Flags)
		}
		r := checkin.Record{Device: c.Device, Seq: c.Seq, Venue: c.Venue, Wall: c.RawWall, Quality: c.Quality, Kind: c.Kind, Sealed: c.Sealed}
		raw, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if prev = checkin.Next(prev, raw); prev != c.Hash {
			t.Errorf("check-in %d: chain hash does not continue", i)
		}
		// Each app check-in is under a ledger leaf that commits to it as
		// stored, as a kiosk batch is (the data audit checks it).
		idx, err := ts.store.BatchLeaf(ctx, c.Device, c.Seq)
		if err != nil {
			t.Fatalf("check-in %d: no ledger leaf: %v", i, err)
		}
		leaves, err := ts.store.LedgerLeaves(ctx, idx, idx+1)
		if err != nil || len(leaves) != 1 {
			t.Fatalf("leaf %d: %v", idx, err)
		}
		wantLeaf := ledgerstore.NewBatch(c.Device, c.Seq, c.Seq, c.Hash, sha256.Sum256(raw), []store.CheckIn{c})
		want, _ := wantLeaf.MarshalText()
		if string(leaves[0]) != string(want) {
			t.Errorf("check-in %d: leaf\n%s\nwant\n%s", i, leaves[0], want)
		}
	}
	last := got[len(got)-1]
	day := daykeys.DayOf(last.Time)
	plain, err := ts.dayKeys.Open(day, last.Sealed, daykeys.AD(last.Device, last.Seq))
	if err != nil {
		t.Fatal(err)
	}
	person, err := checkin.ParsePersonal(plain)
	if err != nil || person.Pseudonym != p.Pseudonym || person.Serial != 100 {
		t.Fatalf("sealed part: %+v %v", person, err)
	}
	if tag, _ := ts.dayKeys.Tag(day, p.Pseudonym); tag != last.Tag {
		t.Error("tag is not the day key's tag of the pseudonym")
	}
	var travel []store.CheckIn
	ts.store.CheckIns(ctx, "app-v3", 1, func(c store.CheckIn) bool { travel = append(travel, c); return true })
	if len(travel) != 1 || travel[0].Flags != store.FlagImpossibleTravel || !store.Flagged(travel[0].Flags) {
		t.Fatalf("app-v3: %+v", travel)
	}
}

// Ensure that one pass checking in again and again is rate limited.
func TestCheckIns_RateLimit(t *testing.T) {
	ts := startServer(t)
	k := ts.enroll(t, "v1")
	code := displayCode(t, k.key, k.enr.Device, "v1", venuecode.PeriodOf(ts.clock.Now(), 30*time.Second))
	text, _ := ts.issuePass(t, 1, time.Time{})
	for i := range checkinPassBurst {
		if status, res := ts.postCheckIn(t, map[string]any{"pass": text, "code": code}); status != 200 {
			t.Fatalf("check-in %d: %d %+v", i, status, res)
		}
	}
	status, res := ts.postCheckIn(t, map[string]any{"pass": text, "code": code})
	if status != http.StatusTooManyRequests || res.Reason != "rate-limited" {
		t.Fatalf("%d %+v", status, res)
	}
	ts.clock.Advance(checkinPassEvery)
	if status, _ := ts.postCheckIn(t, map[string]any{"pass": text, "code": displayCode(t, k.key, k.enr.Device, "v1", venuecode.PeriodOf(ts.clock.Now(), 30*time.Second))}); status != 200 {
		t.Fatalf("after waiting: %d", status)
	}
	// Another pass from the same client is not limited by this one.
	other, _ := ts.issuePass(t, 2, time.Time{})
	if status, _ := ts.postCheckIn(t, map[string]any{"pass": other, "code": code}); status != 200 {
		t.Fatalf("another pass: %d", status)
	}
}

// Ensure that concurrent app check-ins at one venue each get their own
// sequence number of the venue's app device.
func TestCheckIns_Concurrent(t *testing.T) {
	ts := startServer(t)
	k := ts.enroll(t, "v1")
	code := displayCode(t, k.key, k.enr.Device, "v1", venuecode.PeriodOf(ts.clock.Now(), 30*time.Second))
	const n = 20
	texts := make([]string, n)
	for i := range n {
		texts[i], _ = ts.issuePass(t, uint32(i+1), time.Time{})
	}
	errs := make(chan string, n)
	for i := range n {
		go func() {
			status, res := ts.postCheckIn(t, map[string]any{"pass": texts[i], "code": code})
			if status != 200 {
				errs <- res.Reason
				return
			}
			errs <- ""
		}()
	}
	for range n {
		if e := <-errs; e != "" {
			t.Errorf("rejected: %s", e)
		}
	}
	st, err := ts.store.State(context.Background(), "app-v1")
	if err != nil || st.LastSeq != n || st.Records != n {
		t.Fatalf("state %+v %v, want %d records", st, err, n)
	}
}
