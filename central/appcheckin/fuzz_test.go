package appcheckin

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/venuecode"
)

// FuzzCheckIn sends any JSON body, as POST /v1/checkins decodes it, to a
// Service on a real bbolt store with a venue, its kiosk and a valid pass,
// and checks the answer: never an error (the store is healthy), a known
// result, a reason for a rejection, flags never nil, and an accepted
// check-in's time within [now − MaxScanAge, now]. The placeholders PASS,
// DISPLAY and POSTER in the input are replaced by a valid pass, the
// kiosk's current display code and the venue's poster. Seeded below and
// from testdata/fuzz/FuzzCheckIn.
func FuzzCheckIn(f *testing.F) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	dir := f.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "central.db"), &boltstore.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		f.Fatal(err)
	}
	dk, err := daykeys.Open(filepath.Join(dir, "daykeys"), keys.KEK()[:], daykeys.DayOf(now)-27)
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if err := st.AddVenue(ctx, store.Venue{ID: "v1", Name: "카페", Location: registry.Location{Lat: 33.5, Lon: 126.5}, Created: now}); err != nil {
		f.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(nil)
	if err := st.AddDevice(ctx, store.Device{ID: "k1", Venue: "v1", PublicKey: pub, NKey: "UK1", Enrolled: now}); err != nil {
		f.Fatal(err)
	}
	svc, err := New(Config{Store: st, DayKeys: dk, PassKeys: keys.PassKeys(), ClientKey: make([]byte, 32), Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	passText, err := keys.Signer().Issue(pass.Pass{Pseudonym: [16]byte{7}, Kind: pass.KindApp, Serial: 1, Issued: now.Add(-time.Hour), Expires: now.Add(24 * time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	display, err := venuecode.SignDisplay(key, venuecode.Display{Device: "k1", Venue: "v1", Length: 30 * time.Second, Period: venuecode.PeriodOf(now, 30*time.Second)})
	if err != nil {
		f.Fatal(err)
	}
	poster, err := venuecode.IssuePoster(keys.Signer(), "v1", now)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"pass":"PASS","code":"DISPLAY"}`,
		`{"pass":"PASS","code":"DISPLAY","client_id":"a1","exit":true}`,
		`{"pass":"PASS","code":"POSTER","lat":33.5,"lon":126.5,"accuracy":10,"scanned_at":"2026-12-06T02:59:00Z"}`,
		`{"pass":"PASS","code":"DISPLAY","scanned_at":"2026-11-01T00:00:00Z"}`,
		`{"pass":"PASS","code":"DISPLAY","scanned_at":"0001-01-01T00:00:00Z"}`,
		`{"pass":"PASS","code":"DISPLAY","scanned_at":"9999-12-31T23:59:59Z","client_id":"x"}`,
		`{"pass":"x","code":"y","lat":91}`,
	} {
		f.Add([]byte(s))
	}
	repl := strings.NewReplacer("PASS", passText, "DISPLAY", display, "POSTER", poster)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req Request
		if json.Unmarshal([]byte(repl.Replace(string(body))), &req) != nil {
			return
		}
		res, err := svc.CheckIn(ctx, req)
		if err != nil {
			t.Fatalf("CheckIn(%s): %v", body, err)
		}
		if res.Flags == nil {
			t.Fatalf("CheckIn(%s): flags nil", body)
		}
		switch res.Result {
		case Rejected:
			if res.Reason == "" {
				t.Fatalf("CheckIn(%s): rejected without a reason", body)
			}
		case Accepted, Duplicate:
			if res.Venue != "v1" || res.Time.After(now) || res.Time.Before(now.Add(-MaxScanAge-DefaultDebounce)) {
				t.Fatalf("CheckIn(%s) = %+v", body, res)
			}
		default:
			t.Fatalf("CheckIn(%s): result %q", body, res.Result)
		}
	})
}
