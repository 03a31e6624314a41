package central

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/synth"
	"github.com/anshim/anshim/checkin"
)

// TestConsoleBench (with ANSHIM_CONSOLE_BENCH=1; scale from
// ANSHIM_SYNTH_VENUES, _PEOPLE, _DAYS, _PER_DAY, cases from _CASES) loads
// a small synthetic province into a real central's store, gives a few
// people of the vault stays among its visitors, and times, case by case
// in one run, the console's "open a case → the full result page" (the
// case form's POST and the case page's GET, over HTTP, signed in) against
// the trace API alone (POST /v1/traces, the same person, onset and
// degree 2); it logs the p50/p99 of both and their ratio.
//
//	ANSHIM_CONSOLE_BENCH=1 go test -count=1 -run ConsoleBench -v ./central/
func TestConsoleBench(t *testing.T) {
	if os.Getenv("ANSHIM_CONSOLE_BENCH") == "" {
		t.Skip("set ANSHIM_CONSOLE_BENCH=1 (and the ANSHIM_SYNTH_* scale) to run")
	}
	ts := startServer(t)
	ctx := context.Background()
	now := ts.clock.Now()
	cfg := synth.Config{
		Venues: benchEnv("ANSHIM_SYNTH_VENUES", 200),
		People: benchEnv("ANSHIM_SYNTH_PEOPLE", 6000),
		Days:   benchEnv("ANSHIM_SYNTH_DAYS", 7),
		PerDay: benchEnv("ANSHIM_SYNTH_PER_DAY", 20000),
		Seed:   1,
		Now:    func() time.Time { return now },
	}
	cfg.First = daykeys.DayOf(now) - daykeys.Day(cfg.Days)
	cases := benchEnv("ANSHIM_SYNTH_CASES", 100)
	p, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := p.Load(ctx, ts.store, ts.dayKeys)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("LOAD %d check-ins (%d venues, %d people, %d days) in %s", stats.CheckIns, stats.Venues, stats.People, cfg.Days, stats.Elapsed.Round(time.Millisecond))
	vs, err := ts.store.Venues(ctx)
	if err != nil || len(vs) == 0 {
		t.Fatalf("%d venues (%v)", len(vs), err)
	}

	// The cases: people of the vault, each with three stays among the
	// province's visitors in the two days before now (13:00–17:00 KST).
	rng := rand.New(rand.NewPCG(7, 7))
	seq := map[string]uint64{}
	phones := make([]string, cases)
	for i := range phones {
		phones[i] = fmt.Sprintf("010-9%03d-%04d", i/10000, i%10000)
		pp, err := ts.vault.Register(ctx, fmt.Sprintf("확진자%d", i), phones[i])
		if err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			v := vs[rng.IntN(len(vs))].ID
			if seq[v] == 0 { // the venue's kiosk (synth's k-<venue>), past its records
				seq[v] = 1 << 32
				if _, err := ts.store.Device(ctx, "k-"+v); err != nil {
					t.Fatalf("the kiosk of %s: %v", v, err)
				}
			}
			seq[v]++
			day := now.In(daykeys.KST).AddDate(0, 0, -j%2)
			at := time.Date(day.Year(), day.Month(), day.Day(), 13, 0, 0, 0, daykeys.KST).Add(time.Duration(rng.IntN(240)) * time.Minute)
			if at.After(now) {
				at = now.Add(-time.Hour)
			}
			ts.checkInAt(t, pp.ID, v, seq[v], checkin.Entry, at)
		}
	}
	onset := now.In(daykeys.KST).Format(time.DateOnly)

	invTok, err := os.ReadFile(filepath.Join(ts.cfg.DataOrDefault(), InvestigatorTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	b := signInInvestigator(t, ts, "bench.epi")
	var api, console []time.Duration
	contacts := 0
	for i, phone := range phones {
		ref := fmt.Sprintf("BENCH-%04d", i)
		runAPI := func() {
			reqBody, _ := json.Marshal(TraceRequest{Phone: phone, Onset: onset, Degree: 2, CaseRef: ref})
			start := time.Now() // the answer read, not decoded: as the page's
			req, _ := http.NewRequest("POST", ts.HTTPURL()+"/v1/traces", bytes.NewReader(reqBody))
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(invTok)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			api = append(api, time.Since(start))
			var res TraceResponse
			if resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &res) != nil {
				t.Fatalf("trace API: %s %s", resp.Status, data)
			}
			contacts += len(res.Contacts)
		}
		runConsole := func() {
			start := time.Now()
			code, loc, body := b.do("POST", "/console/cases", url.Values{"case_ref": {ref}, "phone": {phone}, "onset": {onset}, "degree": {"2"}})
			if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
				t.Fatalf("open case = %d %q %s", code, loc, body)
			}
			if code, _, _ := b.do("GET", loc, nil); code != http.StatusOK {
				t.Fatalf("case page = %d", code)
			}
			console = append(console, time.Since(start))
		}
		if i%2 == 0 { // alternate which goes first
			runAPI()
			runConsole()
		} else {
			runConsole()
			runAPI()
		}
	}
	a50, a99 := benchPct(api)
	c50, c99 := benchPct(console)
	t.Logf("%d cases, degree 2, %.0f contacts a case", cases, float64(contacts)/float64(cases))
	t.Logf("API    POST /v1/traces:                   p50 %s p99 %s", a50, a99)
	t.Logf("CONSOLE open case + case page over HTTP:  p50 %s p99 %s", c50, c99)
	t.Logf("RATIO console/API: p50 %.2f p99 %.2f", float64(c50)/float64(a50), float64(c99)/float64(a99))
}

func benchEnv(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}

// benchPct returns the 50th and 99th percentiles of ds.
func benchPct(ds []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.50).Round(10 * time.Microsecond), at(0.99).Round(10 * time.Microsecond)
}
