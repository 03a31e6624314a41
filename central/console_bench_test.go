package central

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/synth"
	"github.com/anshim/anshim/central/web"
)

// BenchmarkConsole (with ANSHIM_CONSOLE_BENCH=1; the province's scale
// from ANSHIM_SYNTH_VENUES, _PEOPLE, _DAYS, _PER_DAY, _SEED, its cases
// from _CASES; kept between runs in ANSHIM_SYNTH_KEEP, shared with
// central/synth's BenchmarkProvince of the same scale) starts a real
// central on a synthetic province's store, bbolt and, with
// ANSHIM_TEST_PG, PostgreSQL (ANSHIM_SYNTH_BACKENDS chooses), and times,
// case by case in one run, the console's "open a case → the full result
// page" (the case form's POST and the case page's GET over HTTP, signed
// in as an investigator, the page read to its end) against the trace API
// alone (POST /v1/traces, the same resident, onset and degree 2, the
// answer read), alternating which goes first. The cases are the
// province's residents registered in the vault (synth's PickCases: the
// most check-ins in the window of an onset the day before the last).
// Metrics: p50-ms and p99-ms (console), api-p50-ms and api-p99-ms,
// ratio-p50 and ratio-p99 (console ÷ API), contacts (a case's mean),
// page-kb (the case page's mean size). Run with -benchtime 100x:
//
//	ANSHIM_CONSOLE_BENCH=1 ANSHIM_TEST_PG=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	ANSHIM_SYNTH_BACKENDS=pg ANSHIM_SYNTH_KEEP=/var/tmp/anshim-synth \
//	ANSHIM_SYNTH_VENUES=50000 ANSHIM_SYNTH_PEOPLE=1000000 ANSHIM_SYNTH_DAYS=28 ANSHIM_SYNTH_PER_DAY=1300000 \
//	go test -run '^$' -bench Console -benchtime 100x -timeout 3h ./central/
func BenchmarkConsole(b *testing.B) {
	if os.Getenv("ANSHIM_CONSOLE_BENCH") == "" {
		b.Skip("set ANSHIM_CONSOLE_BENCH=1 (and the ANSHIM_SYNTH_* scale) to run")
	}
	backends := []string{"bolt"}
	if os.Getenv("ANSHIM_TEST_PG") != "" {
		backends = append(backends, "pg")
	}
	if s := os.Getenv("ANSHIM_SYNTH_BACKENDS"); s != "" {
		backends = filepath.SplitList(s)
	}
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			ts := startBenchCentral(b, backend)
			b.Run("degree-2", func(b *testing.B) { benchConsole(b, ts) })
		})
	}
}

// benchCentral is a central started on a synthetic province.
type benchCentral struct {
	*Server
	fixture *synth.Fixture
	clock   *testClock
	token   string // the investigator token
	run     string // names this run's accounts and case references
}

// startBenchCentral opens the province of the ANSHIM_SYNTH_* scale on
// backend (kept or fresh, as synth.OpenFixture) and starts a central on
// its store, province keys and day keys, its clock a minute before the
// province's end (every loaded day inside retention).
func startBenchCentral(b *testing.B, backend string) *benchCentral {
	ctx := context.Background()
	cfg := synth.Config{
		Venues: benchEnv("ANSHIM_SYNTH_VENUES", 200),
		People: benchEnv("ANSHIM_SYNTH_PEOPLE", 6000),
		Days:   benchEnv("ANSHIM_SYNTH_DAYS", 7),
		PerDay: benchEnv("ANSHIM_SYNTH_PER_DAY", 20000),
		Seed:   uint64(benchEnv("ANSHIM_SYNTH_SEED", 1)),
	}
	f, err := synth.OpenFixture(ctx, cfg, synth.FixtureOptions{
		Backend: backend, AdminDSN: os.Getenv("ANSHIM_TEST_PG"), Keep: os.Getenv("ANSHIM_SYNTH_KEEP"),
		Cases: benchEnv("ANSHIM_SYNTH_CASES", 100), Logf: b.Logf,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := f.Close(context.WithoutCancel(ctx)); err != nil {
			b.Error(err)
		}
	})
	if len(f.Cases) == 0 {
		b.Fatal("the province has no cases to open (ANSHIM_SYNTH_CASES)")
	}
	if !f.Reused {
		b.Logf("%s: LOAD %d check-ins (%d venues, %d days) in %s", backend, f.Stats.CheckIns, f.Stats.Venues,
			f.Config.Days, f.Stats.Elapsed.Round(time.Millisecond))
	}
	dir := b.TempDir()
	days, err := os.ReadFile(filepath.Join(f.DataDir, DayKeysFile))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, DayKeysFile), days, 0o600); err != nil {
		b.Fatal(err)
	}
	clock := &testClock{t: f.End.Add(-time.Minute)}
	s, err := New(Config{
		Data: dir, Keys: f.KeysDir, Store: f.Store, HTTP: "127.0.0.1:0",
		NATS: NATSConfig{Listen: "127.0.0.1:-1", Insecure: true},
		Now:  clock.Now,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Minute) // it publishes every venue to the kiosks' KV first
	defer cancel()
	if err := s.Start(sctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Errorf("close: %v", err)
		}
	})
	tok, err := os.ReadFile(filepath.Join(dir, InvestigatorTokenFile))
	if err != nil {
		b.Fatal(err)
	}
	return &benchCentral{Server: s, fixture: f, clock: clock, token: strings.TrimSpace(string(tok)),
		run: fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffff)}
}

// benchBrowser is a signed-in investigator's HTTP client.
type benchBrowser struct {
	b    *testing.B
	base string
	c    *http.Client
	csrf string
}

// do sends a request (a form when form is not nil, with the CSRF token)
// and reads the whole answer: status, Location, body.
func (bb *benchBrowser) do(method, path string, form url.Values) (int, string, string) {
	var body io.Reader
	if form != nil {
		form.Set("csrf", bb.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, bb.base+path, body)
	if err != nil {
		bb.b.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := bb.c.Do(req)
	if err != nil {
		bb.b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindStringSubmatch(string(data)); m != nil {
		bb.csrf = m[1]
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(data)
}

// signIn adds an investigator account of this run and signs it in.
func (ts *benchCentral) signIn(b *testing.B, name string) *benchBrowser {
	wb, err := web.New(ts.store, web.Options{Now: ts.clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	const pw = "investigator password"
	if _, err := wb.AddAccount(withAccount(context.Background(), fileAdmin),
		web.NewAccount{Name: name, Role: web.RoleInvestigator, Phone: "010-1111-3333", Password: pw}, "admin"); err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	bb := &benchBrowser{b: b, base: ts.HTTPURL(), c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	bb.do("GET", "/signin", nil)
	if code, _, _ := bb.do("POST", "/signin", url.Values{"name": {name}, "password": {pw}}); code != http.StatusSeeOther {
		b.Fatalf("sign-in = %d", code)
	}
	bb.do("GET", "/console", nil)
	return bb
}

// benchConsole opens b.N cases (the province's, in turn) in the console
// and through the API.
func benchConsole(b *testing.B, ts *benchCentral) {
	call := fmt.Sprintf("%s-%d", ts.run, b.N)
	bb := ts.signIn(b, "bench.epi"+call)
	cases := ts.fixture.Cases
	var api, console []time.Duration
	contacts, pageBytes := 0, 0
	b.ResetTimer()
	for i := range b.N {
		c := cases[i%len(cases)]
		ref := fmt.Sprintf("BENCH-%s-%04d", call, i)
		onset := c.Onset.String()
		runAPI := func() {
			reqBody, _ := json.Marshal(TraceRequest{Phone: c.Phone, Onset: onset, Degree: 2, CaseRef: ref})
			b.StopTimer()
			start := time.Now()
			req, _ := http.NewRequest("POST", ts.HTTPURL()+"/v1/traces", bytes.NewReader(reqBody))
			req.Header.Set("Authorization", "Bearer "+ts.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			api = append(api, time.Since(start))
			var res TraceResponse
			if resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &res) != nil {
				b.Fatalf("trace API: %s %s", resp.Status, data)
			}
			contacts += len(res.Contacts)
			b.StartTimer()
		}
		runConsole := func() {
			start := time.Now()
			code, loc, body := bb.do("POST", "/console/cases", url.Values{"case_ref": {ref}, "phone": {c.Phone}, "onset": {onset}, "degree": {"2"}})
			if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
				b.Fatalf("open case = %d %q %s", code, loc, body)
			}
			code, _, page := bb.do("GET", loc, nil)
			console = append(console, time.Since(start))
			if code != http.StatusOK {
				b.Fatalf("case page = %d", code)
			}
			pageBytes += len(page)
		}
		if i%2 == 0 { // alternate which goes first
			runAPI()
			runConsole()
		} else {
			runConsole()
			runAPI()
		}
	}
	b.StopTimer()
	a50, a99 := benchPct(api)
	c50, c99 := benchPct(console)
	b.ReportMetric(benchMS(c50), "p50-ms")
	b.ReportMetric(benchMS(c99), "p99-ms")
	b.ReportMetric(benchMS(a50), "api-p50-ms")
	b.ReportMetric(benchMS(a99), "api-p99-ms")
	b.ReportMetric(float64(c50)/float64(a50), "ratio-p50")
	b.ReportMetric(float64(c99)/float64(a99), "ratio-p99")
	b.ReportMetric(float64(contacts)/float64(b.N), "contacts")
	b.ReportMetric(float64(pageBytes)/float64(b.N)/1024, "page-kb")
}

func benchEnv(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}

func benchMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchPct returns the 50th and 99th percentiles of ds.
func benchPct(ds []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.50), at(0.99)
}
