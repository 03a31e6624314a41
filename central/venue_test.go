package central

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/sync/wire"
	"github.com/anshim/anshim/venuecode"
)

// testRegistration returns a valid registration of venue id, with a
// business number of its own.
func testRegistration(id string, status registry.Status) registry.Registration {
	return registry.Registration{
		ID:             id,
		Name:           "Cafe " + id,
		BusinessNumber: syntheticBusinessNumber(id, 0),
		Address:        "제주특별자치도 제주시 중앙로 1",
		Category:       registry.Cafe,
		Location:       registry.Location{Lat: 33.5113, Lon: 126.4930},
		OwnerPhone:     "010-1234-5678",
		Status:         status,
	}
}

// call sends an admin request and returns the status and the error
// message of the answer.
func (ts *testServer) call(t *testing.T, method, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, ts.HTTPURL()+path, rd)
	req.Header.Set("Authorization", "Bearer "+ts.adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error
}

// Ensure that POST /v1/venues refuses bad registrations with 400 and an
// error naming the field, stores nothing of them, and refuses duplicate
// ids and business numbers with 409.
func TestRegisterVenue_HTTP(t *testing.T) {
	ts := startServer(t)
	edit := func(f func(r map[string]any)) map[string]any {
		var m map[string]any
		data, _ := json.Marshal(testRegistration("cafe-1", ""))
		json.Unmarshal(data, &m)
		f(m)
		return m
	}
	for _, tt := range []struct {
		name string
		body any
		want string // in the error
	}{
		{"bad check digit", edit(func(r map[string]any) { r["business_number"] = "123-45-67890" }), "invalid request: business_number: check digit does not match"},
		{"business number form", edit(func(r map[string]any) { r["business_number"] = "12345" }), "business_number: want 10 digits"},
		{"no business number", edit(func(r map[string]any) { delete(r, "business_number") }), "business_number: missing"},
		{"foreign phone", edit(func(r map[string]any) { r["owner_phone"] = "+1 202 555 0123" }), "owner_phone: want a Korean phone number"},
		{"latitude", edit(func(r map[string]any) { r["location"] = map[string]any{"lat": 126.5, "lon": 33.5} }), "location.lat: 126.5 is outside South Korea"},
		{"no location", edit(func(r map[string]any) { delete(r, "location") }), "location.lat: 0 is outside"},
		{"latitude as text", edit(func(r map[string]any) { r["location"] = map[string]any{"lat": "33.5", "lon": 126.5} }), "JSON body"},
		{"category", edit(func(r map[string]any) { r["category"] = "disco" }), `category: unknown category "disco"`},
		{"stay", edit(func(r map[string]any) { r["default_stay"] = 5 }), "default_stay: 5 minutes: want 15 to 1425"},
		{"status", edit(func(r map[string]any) { r["status"] = "suspended" }), "status: a new venue is applied or approved"},
		{"id", edit(func(r map[string]any) { r["id"] = "a.b" }), `id: "a.b"`},
		{"unknown field", edit(func(r map[string]any) { r["lat"] = 33.5 }), `unknown field "lat"`},
		{"two fields", edit(func(r map[string]any) { r["name"] = ""; r["address"] = "" }), "name: missing; address: missing"},
	} {
		code, msg := ts.call(t, "POST", "/v1/venues", tt.body)
		if code != http.StatusBadRequest || !strings.Contains(msg, tt.want) {
			t.Errorf("%s: %d %q, want 400 %q", tt.name, code, msg, tt.want)
		}
	}
	if vs, err := ts.store.Venues(context.Background()); err != nil || len(vs) != 0 {
		t.Fatalf("refused registrations stored %d venues (%v)", len(vs), err)
	}

	var v store.Venue
	if code := ts.do(t, "POST", "/v1/venues", testRegistration("cafe-1", ""), true, &v); code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	want := store.Venue{
		ID: "cafe-1", Name: "Cafe cafe-1", BusinessNumber: syntheticBusinessNumber("cafe-1", 0),
		Address: "제주특별자치도 제주시 중앙로 1", Category: registry.Cafe, DefaultStay: 45,
		Location: registry.Location{Lat: 33.5113, Lon: 126.4930}, OwnerPhone: "+821012345678",
		Status: registry.StatusApplied, Created: ts.clock.Now(), Updated: ts.clock.Now(),
	}
	var got store.Venue
	if code := ts.do(t, "GET", "/v1/venues/cafe-1", nil, true, &got); code != http.StatusOK {
		t.Fatalf("GET venue: %d", code)
	}
	for _, g := range []store.Venue{v, got} {
		if !g.Created.Equal(want.Created) || !g.Updated.Equal(want.Updated) {
			t.Errorf("times %v %v, want %v", g.Created, g.Updated, want.Created)
		}
		g.Created, g.Updated = want.Created, want.Updated
		if g != want {
			t.Errorf("venue =\n%+v\nwant\n%+v", g, want)
		}
	}

	dupID := testRegistration("cafe-1", "")
	dupID.BusinessNumber = syntheticBusinessNumber("cafe-x", 0)
	if code, msg := ts.call(t, "POST", "/v1/venues", dupID); code != http.StatusConflict || !strings.Contains(msg, "cafe-1: id: already exists") {
		t.Errorf("duplicate id: %d %q", code, msg)
	}
	dupNumber := testRegistration("cafe-2", "")
	dupNumber.BusinessNumber = want.BusinessNumber
	if code, msg := ts.call(t, "POST", "/v1/venues", dupNumber); code != http.StatusConflict ||
		!strings.Contains(msg, "business_number "+want.BusinessNumber+": already exists (venue cafe-1)") {
		t.Errorf("duplicate business number: %d %q", code, msg)
	}
	if code, _ := ts.call(t, "GET", "/v1/venues/cafe-2", nil); code != http.StatusNotFound {
		t.Errorf("refused venue: GET %d, want 404", code)
	}
	if code, msg := ts.call(t, "GET", "/v1/venues/nowhere", nil); code != http.StatusNotFound || !strings.Contains(msg, "nowhere") {
		t.Errorf("unknown venue: %d %q", code, msg)
	}
}

// Ensure that tokens and posters are for approved venues only, that the
// status moves as the registry allows over HTTP, and that a suspended
// venue's kiosk still has its check-ins ingested.
func TestVenueStatus_HTTP(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	if code, _ := ts.call(t, "POST", "/v1/venues", testRegistration("cafe-1", "")); code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	for _, path := range []string{"/v1/venues/cafe-1/tokens", "/v1/venues/cafe-1/poster"} {
		if code, msg := ts.call(t, "POST", path, nil); code != http.StatusConflict || !strings.Contains(msg, "venue cafe-1: not approved") || !strings.Contains(msg, "(its status is applied)") {
			t.Errorf("POST %s of an applied venue: %d %q, want 409", path, code, msg)
		}
	}
	for _, tt := range []struct {
		path, body string
		code       int
		want       string
	}{
		{"/v1/venues/cafe-1/status", `{"status":"suspended"}`, 409, "status: a venue cannot go from applied to suspended"},
		{"/v1/venues/cafe-1/status", `{"status":"open"}`, 400, `status: unknown status "open"`},
		{"/v1/venues/cafe-1/status", `{}`, 400, `status: unknown status ""`},
		{"/v1/venues/cafe-1/status", ``, 400, "JSON body"},
		{"/v1/venues/nowhere/status", `{"status":"approved"}`, 404, "nowhere"},
		{"/v1/venues/nowhere/tokens", ``, 404, "nowhere"},
		{"/v1/venues/nowhere/poster", ``, 404, "nowhere"},
		{"/v1/venues/cafe-1/status", `{"status":"approved"}`, 200, ""},
		{"/v1/venues/cafe-1/status", `{"status":"approved"}`, 200, ""},
	} {
		if code, msg := ts.call(t, "POST", tt.path, tt.body); code != tt.code || !strings.Contains(msg, tt.want) {
			t.Errorf("POST %s %s: %d %q, want %d %q", tt.path, tt.body, code, msg, tt.code, tt.want)
		}
	}

	// Approved: a poster that verifies with the province's keys, a kiosk.
	var p Poster
	if code := ts.do(t, "POST", "/v1/venues/cafe-1/poster", nil, true, &p); code != http.StatusCreated {
		t.Fatalf("poster: %d", code)
	}
	if venue, err := venuecode.VerifyPoster(ts.keys.PassKeys(), p.Poster); err != nil || venue != "cafe-1" || p.Venue != "cafe-1" || !p.Issued.Equal(ts.clock.Now()) {
		t.Errorf("poster %+v: %q, %v", p, venue, err)
	}
	k := ts.enroll(t, "cafe-1")
	spare := ts.addVenueAndToken(t, "cafe-1")

	var v store.Venue
	ts.clock.Advance(3600e9)
	if code := ts.do(t, "POST", "/v1/venues/cafe-1/status", map[string]string{"status": "suspended"}, true, &v); code != http.StatusOK ||
		v.Status != registry.StatusSuspended || !v.Updated.Equal(ts.clock.Now()) {
		t.Fatalf("suspend: %d %+v", code, v)
	}
	if code, msg := ts.call(t, "POST", "/v1/venues/cafe-1/tokens", nil); code != http.StatusConflict || !strings.Contains(msg, "(its status is suspended)") {
		t.Errorf("token of a suspended venue: %d %q", code, msg)
	}
	if code := ts.do(t, "POST", "/v1/enroll", newTestKiosk(t).request(spare), false, nil); code != http.StatusConflict {
		t.Errorf("enroll with a token made before the suspension: %d, want 409", code)
	}

	// The suspended venue's kiosk syncs as before.
	nc, _ := k.connect(t, ts.NATSURL())
	js, _ := jetstream.New(nc)
	data, id := k.batches(ts.keys).next(t, 2)
	if _, err := js.Publish(ctx, k.enr.Subject, data, jetstream.WithMsgID(id)); err != nil {
		t.Fatal(err)
	}
	ts.waitStored(t, k.enr.Device, 2)

	if _, err := ts.SetVenueStatus(ctx, "cafe-1", registry.StatusApproved); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.SetVenueStatus(ctx, "cafe-1", registry.StatusApplied); !errors.As(err, new(*registry.TransitionError)) {
		t.Errorf("approved → applied: %v", err)
	}
}

// Ensure that the venues bucket carries each venue's name, category and
// default stay.
func TestVenueSettings_KV(t *testing.T) {
	ts := startServer(t)
	r := testRegistration("pc-1", "")
	r.Category = registry.PCRoom
	if _, err := ts.RegisterVenue(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	r = testRegistration("bar-1", registry.StatusApproved)
	r.Category, r.DefaultStay = registry.Bar, 100
	if _, err := ts.RegisterVenue(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(ts.centralConn(t))
	got := readBucket(t, js, wire.BucketVenues)
	want := map[string]string{
		"pc-1":  `{"name":"Cafe pc-1","category":"pc-room","default_stay":"120m"}`,
		"bar-1": `{"name":"Cafe bar-1","category":"bar","default_stay":"100m"}`,
	}
	if !mapsEqual(got, want) {
		t.Errorf("%s = %v, want %v", wire.BucketVenues, got, want)
	}
	if s, _ := venueValue(store.Venue{ID: "old", Name: "Old"}); string(s) != `{"name":"Old","category":"other","default_stay":"60m"}` {
		t.Errorf("venue from before the registry: %s", s)
	}
}

// Ensure that AddVenue registers a complete, valid, approved venue, and
// takes another synthetic business number when its first is taken.
func TestAddVenue_Synthetic(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	taken := testRegistration("other", "")
	taken.BusinessNumber = syntheticBusinessNumber("cafe-9", 0)
	if _, err := ts.RegisterVenue(ctx, taken); err != nil {
		t.Fatal(err)
	}
	v, err := ts.AddVenue(ctx, "cafe-9", "Cafe Nine")
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != registry.StatusApproved || v.Category != registry.Other || v.DefaultStay != 60 || v.Location != registry.JejuCity ||
		v.BusinessNumber != syntheticBusinessNumber("cafe-9", 1) || !strings.HasPrefix(v.OwnerPhone, "+82647") {
		t.Errorf("AddVenue = %+v", v)
	}
	reg := registry.Registration{ID: v.ID, Name: v.Name, BusinessNumber: v.BusinessNumber, Address: v.Address,
		Category: v.Category, DefaultStay: v.DefaultStay, Location: v.Location, OwnerPhone: v.OwnerPhone, Status: v.Status}
	if err := reg.Validate(); err != nil {
		t.Errorf("the synthetic venue does not validate: %v", err)
	}
	if !registry.Jeju.Contains(v.Location) {
		t.Errorf("location %v is not in Jeju", v.Location)
	}
	if _, err := ts.AddVenue(ctx, "cafe-9", "again"); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddVenue twice: %v", err)
	}
	if _, err := ts.NewToken(ctx, "cafe-9"); err != nil {
		t.Errorf("token for the synthetic venue: %v", err)
	}
}
