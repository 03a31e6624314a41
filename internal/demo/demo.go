// Package demo plays a scripted day of the whole Anshim system in one
// process: an embedded NATS server, the central server with its embedded
// store, and simulated kiosks with virtual scanners and visitors. It is what
// `make demo` (`anshim demo`) runs.
//
// # The script
//
// Steady check-ins at every kiosk; a network outage (the NATS server
// stopped, kiosks keep accepting offline); a kiosk killed and restarted; a
// kiosk whose clock starts at 1970 (no NTP, no RTC); then recovery. At the
// end every accepted check-in must be stored at the central exactly once:
// the demo opens every stored record with the province's key and compares
// it with what the visitors were told at the kiosks.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/kiosk/enroll"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

// Options configure a demo run. Zero values mean the defaults.
type Options struct {
	Kiosks   int           // simulated kiosks (default 20, at least 3)
	Visitors int           // visitors with passes (default 50 per kiosk)
	Day      time.Duration // length of the scripted day (default 30s)
	Dir      string        // working directory (default a new temporary one)
	Keep     bool          // leave everything running after the check
	Seed     uint64        // visitor behaviour (default 1)
	Store    string        // the central's store: "" (bbolt in Dir) or a PostgreSQL URL
	Out      io.Writer     // progress and the final table
}

func (o *Options) defaults() {
	if o.Kiosks == 0 {
		o.Kiosks = 20
	}
	o.Kiosks = max(o.Kiosks, 3)
	if o.Visitors == 0 {
		o.Visitors = 50 * o.Kiosks
	}
	if o.Day == 0 {
		o.Day = 25 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

// Row is one kiosk's line of the final table.
type Row struct {
	Kiosk, Device, Venue, Clock string
	Scanned, Accepted, Already  int
	Rejected, Stored            int
	Duplicates, Lost            int
	// Unanswered counts the stored check-ins of codes the kiosk took but
	// never answered (killed while committing, or still busy at the end):
	// recorded at most once, neither lost nor duplicated.
	Unanswered int
	ClockError time.Duration // largest |stored time − scan time|
}

// Report is the outcome of a run.
type Report struct {
	Rows []Row
	Dir  string
}

// Totals sums the rows.
func (r *Report) Totals() Row {
	t := Row{Kiosk: "total"}
	for _, x := range r.Rows {
		t.Scanned += x.Scanned
		t.Accepted += x.Accepted
		t.Already += x.Already
		t.Rejected += x.Rejected
		t.Stored += x.Stored
		t.Duplicates += x.Duplicates
		t.Lost += x.Lost
		t.Unanswered += x.Unanswered
		t.ClockError = max(t.ClockError, x.ClockError)
	}
	return t
}

// ErrLostOrDuplicated is returned when the final check fails.
var ErrLostOrDuplicated = errors.New("check-ins lost or duplicated")

type visit struct {
	pseudonym [16]byte
	at        time.Time
}

// sim is one simulated kiosk.
type sim struct {
	idx          int
	dir, device  string
	venue, clock string
	offset       time.Duration
	logw         io.Writer

	mu       sync.Mutex
	fake     *scannertest.Fake
	events   chan feedback.Event
	cancel   context.CancelFunc
	done     chan struct{}
	scanned  int
	accepted []visit
	already  int
	rejected int
	// pending are the codes the kiosk took whose answer has not come yet,
	// oldest first: each answer belongs to the oldest (a scan at a kiosk is
	// answered in order), even one that came after its visitor stopped
	// waiting, so that a slow answer is never taken for the next scan's.
	// Those never answered (the kiosk killed, or still busy at the end)
	// may or may not have been recorded.
	pending []visit
	// unanswered are pending codes of a kiosk that was killed.
	unanswered []visit
}

type indicator chan feedback.Event

// Indicate hands the event to the visitors waiting at the kiosk. It never
// blocks: the buffer holds far more answers than a kiosk has codes waiting
// (also when the kiosk is being killed and its context is done).
func (c indicator) Indicate(ctx context.Context, ev feedback.Event) error {
	select {
	case c <- ev:
	default:
	}
	return nil
}

func (s *sim) start(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	fake := scannertest.New(fmt.Sprintf("demo-scanner-%02d", s.idx+1))
	events := make(chan feedback.Event, 64)
	done := make(chan struct{})
	cfg := kiosk.Config{Data: s.dir, Feedback: "none", TrustClock: s.offset == 0, ClockOffset: kiosk.Duration(s.offset), StatusListen: "off"}
	logger := slog.New(slog.NewJSONHandler(s.logw, nil))
	go func() {
		defer close(done)
		if err := kiosk.Run(ctx, cfg, kiosk.Env{Log: logger, Scanners: []scanner.Scanner{fake}, Indicator: indicator(events)}); err != nil {
			logger.Error("kiosk stopped", "err", err)
		}
	}()
	s.mu.Lock()
	s.fake, s.events, s.cancel, s.done = fake, events, cancel, done
	s.mu.Unlock()
}

// kill stops the kiosk at once; what it committed stays in its outbox.
func (s *sim) kill() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.fake = nil
	s.unanswered = append(s.unanswered, s.pending...)
	s.pending = nil
	s.mu.Unlock()
	cancel()
	<-done
}

func (s *sim) running() (*scannertest.Fake, chan feedback.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fake, s.events
}

// scan shows one code to the kiosk and waits for its answer.
func (s *sim) scan(ctx context.Context, text string, p [16]byte) {
	fake, events := s.running()
	if fake == nil {
		return // the kiosk is down: the visitor walks in unrecorded, as in life
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	at := time.Now()
	if fake.Send(sctx, text) != nil {
		return
	}
	// Once the kiosk has the code, its answer counts even if the day ends
	// meanwhile: the record may already be committed.
	me := visit{p, at}
	s.mu.Lock()
	s.pending = append(s.pending, me)
	s.mu.Unlock()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if s.answer(ev) == me {
				return
			}
		case <-timeout:
			return // still pending: a later answer is matched to it
		}
	}
}

// answer applies the kiosk's answer to the oldest pending code and returns
// its visit.
func (s *sim) answer(ev feedback.Event) visit {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return visit{} // not an answer to a code of ours
	}
	v := s.pending[0]
	s.pending = s.pending[1:]
	s.scanned++
	switch ev.Result {
	case feedback.Accepted:
		s.accepted = append(s.accepted, v)
	case feedback.Duplicate:
		s.already++
	default:
		s.rejected++
	}
	return v
}

// Run plays the demo. It returns the report, and ErrLostOrDuplicated when
// any accepted check-in is missing at the central or stored twice.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	d, err := newDemo(o)
	if err != nil {
		return nil, err
	}
	defer d.closeFiles()
	defer func() { d.closeCentral() }()
	if err := d.startCentral(ctx); err != nil {
		return nil, err
	}
	if err := d.enrollKiosks(ctx); err != nil {
		return nil, err
	}
	if err := webAccounts(ctx, d.srv); err != nil { // web.go
		return nil, err
	}
	d.webURL = d.srv.HTTPURL()
	if err := d.issuePasses(); err != nil {
		return nil, err
	}
	// The last visitors (the regulars scan most) are people in the vault,
	// so that the console can open a case for one of them (web.go).
	if d.vaultVisitors, d.vaultIDs, err = vaultVisitors(ctx, d.srv, min(demoPeople, len(d.visitors)/2)); err != nil {
		return nil, err
	}
	copy(d.visitors[len(d.visitors)-len(d.vaultVisitors):], d.vaultVisitors)
	runCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	if err := d.playDay(ctx, runCtx); err != nil {
		return nil, err
	}
	d.drain(ctx)
	caseErr := d.demoCase(ctx) // web.go; before verify, which closes the central
	rep, err := d.verify(ctx)
	if err != nil {
		return rep, err
	}
	if caseErr != nil {
		return rep, caseErr
	}
	printWeb(d.o.Out, d.webURL, d.caseLine, o.Keep) // web.go
	if o.Keep {
		return rep, keep(ctx, d.ccfg, d.sims, d.o.Out)
	}
	return rep, nil
}

// demo is one run: what Run's named steps set up and share.
type demo struct {
	o             Options
	dir           string
	keys          *province.Keys
	ccfg          central.Config
	srv           *central.Server
	closeCentral  func() error // once; a no-op before the central starts
	sims          []*sim
	visitors      []visitor
	vaultVisitors []visitor  // the last of visitors, people in the vault (web.go)
	vaultIDs      []string   // their person ids
	caseLine      string     // the console case opened after the day (web.go)
	bad           []string   // codes no kiosk accepts: not a pass, expired, forged
	files         []*os.File // logs, closed when Run returns
	webURL        string     // the central's HTTP address, the web's
}

// visitor is a person with a pass.
type visitor struct {
	text string
	p    [16]byte
}

// step prints a line of the script.
func (d *demo) step(format string, args ...any) { fmt.Fprintf(d.o.Out, "▸ "+format+"\n", args...) }

// newDemo makes the working directory and the province's keys.
func newDemo(o Options) (*demo, error) {
	d := &demo{o: o, dir: o.Dir, closeCentral: func() error { return nil }}
	if d.dir == "" {
		var err error
		if d.dir, err = os.MkdirTemp("", "anshim-demo-"); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(d.dir, "logs"), 0o700); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.step("working directory %s (logs in logs/)", d.dir)
	keys, err := province.Generate(rand.Reader, "jeju")
	if err != nil {
		return nil, err
	}
	if err := keys.Save(filepath.Join(d.dir, "province")); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.keys = keys
	return d, nil
}

// logFile creates logs/name, closed when Run returns.
func (d *demo) logFile(name string) (*os.File, error) {
	f, err := os.Create(filepath.Join(d.dir, "logs", name))
	if err != nil {
		return nil, err
	}
	d.files = append(d.files, f)
	return f, nil
}

// closeFiles closes the log files.
func (d *demo) closeFiles() {
	for _, f := range slices.Backward(d.files) {
		f.Close()
	}
}

// startCentral starts the central server with an embedded store and NATS.
func (d *demo) startCentral(ctx context.Context) error {
	centralLog, err := d.logFile("central.log")
	if err != nil {
		return err
	}
	d.ccfg = central.Config{Data: filepath.Join(d.dir, "central"), Keys: filepath.Join(d.dir, "province"), HTTP: "127.0.0.1:0", Store: d.o.Store,
		NATS: central.NATSConfig{Listen: "127.0.0.1:-1"}}
	srv, err := central.New(d.ccfg, slog.New(slog.NewJSONHandler(centralLog, nil)))
	if err != nil {
		return fmt.Errorf("demo: central: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("demo: central: %w", err)
	}
	d.srv, d.closeCentral = srv, sync.OnceValue(srv.Close)
	// The central is restarted after the check (--keep): on the same ports,
	// which the kiosks and the address printed here name.
	if err := pinAddrs(&d.ccfg, srv.HTTPURL(), srv.NATSURL()); err != nil {
		return fmt.Errorf("demo: central: %w", err)
	}
	d.step("central server up: HTTP %s, embedded NATS %s, store %s", srv.HTTPURL(), srv.NATSURL(), storeName(d.ccfg.StoreOrDefault()))
	return nil
}

// enrollKiosks registers a venue per kiosk and enrolls the kiosk with a
// token, as a venue owner would.
func (d *demo) enrollKiosks(ctx context.Context) error {
	srv := d.srv
	d.sims = make([]*sim, d.o.Kiosks)
	for i := range d.sims {
		s := &sim{idx: i, dir: filepath.Join(d.dir, "kiosks", fmt.Sprintf("%02d", i+1)), venue: fmt.Sprintf("v-demo-%02d", i+1), clock: "ntp"}
		if i == 2 {
			// Booted without NTP or RTC: its wall clock says 1970.
			s.offset = -time.Since(time.Date(1970, 1, 1, 0, 0, 5, 0, time.UTC))
			s.clock = "1970!"
		}
		if _, err := srv.AddVenue(ctx, s.venue, fmt.Sprintf("Demo venue %d", i+1)); err != nil {
			return fmt.Errorf("demo: venue: %w", err)
		}
		tok, err := srv.NewToken(ctx, s.venue)
		if err != nil {
			return fmt.Errorf("demo: token: %w", err)
		}
		// The bundle is pinned: the demo's central serves plain HTTP on
		// loopback. NATS is TLS, with the central's own CA.
		res, err := enroll.Enroll(ctx, enroll.Options{Central: srv.HTTPURL(), Token: tok, Dir: s.dir, BundleSHA256: srv.BundleSHA256()})
		if err != nil {
			return fmt.Errorf("demo: enroll kiosk %d: %w", i+1, err)
		}
		s.device = res.Device.ID
		if s.logw, err = d.logFile(fmt.Sprintf("kiosk-%02d.log", i+1)); err != nil {
			return err
		}
		d.sims[i] = s
	}
	d.step("%d kiosks enrolled (kiosk 03's clock starts at 1970)", len(d.sims))
	return nil
}

// issuePasses makes the visitors and their passes, and a few forged or
// expired codes to mix in.
func (d *demo) issuePasses() error {
	signer := d.keys.Signer()
	now := time.Now().Truncate(time.Second)
	d.visitors = make([]visitor, d.o.Visitors)
	for i := range d.visitors {
		p := pass.Pass{Kind: pass.KindApp, Issued: now.Add(-24 * time.Hour), Expires: now.Add(365 * 24 * time.Hour)}
		if i%10 == 0 {
			p.Kind, p.Serial = pass.KindCard, uint32(1000+i)
		}
		rand.Read(p.Pseudonym[:])
		text, err := signer.Issue(p)
		if err != nil {
			return err
		}
		d.visitors[i] = visitor{text, p.Pseudonym}
	}
	expired, _ := signer.Issue(pass.Pass{Kind: pass.KindApp, Issued: now.Add(-48 * time.Hour), Expires: now.Add(-24 * time.Hour)})
	d.bad = []string{"HTTPS://EXAMPLE.COM/MENU", expired, d.visitors[0].text[:len(d.visitors[0].text)-9]}
	return nil
}

// playDay starts the kiosks (until runCtx is done) and plays the scripted
// day: visitors scanning, the outage, the recovery, a kiosk killed and
// restarted, a progress line every twelfth of the day.
func (d *demo) playDay(ctx, runCtx context.Context) error {
	for _, s := range d.sims {
		s.start(runCtx)
	}
	d.step("the day starts: visitors scan at every kiosk")
	scanCtx, stopScans := context.WithCancel(runCtx)
	var wg sync.WaitGroup
	defer func() {
		stopScans()
		wg.Wait()
	}()
	for i, s := range d.sims {
		wg.Go(func() { d.visit(scanCtx, i, s) })
	}
	var phase atomic.Value
	phase.Store("steady")
	start := time.Now()
	events := d.script(runCtx)
	tick := time.NewTicker(d.o.Day / 12)
	defer tick.Stop()
	for time.Since(start) < d.o.Day {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-time.After(50 * time.Millisecond):
		}
		for len(events) > 0 && time.Since(start) >= time.Duration(events[0].at*float64(d.o.Day)) {
			phase.Store(events[0].name)
			if err := events[0].do(); err != nil {
				return fmt.Errorf("demo: %s: %w", events[0].name, err)
			}
			events = events[1:]
		}
		select {
		case <-tick.C:
			d.progress(ctx, fmt.Sprintf("%2.0fs %s", time.Since(start).Seconds(), phase.Load()))
		default:
		}
	}
	return nil
}

// visit sends the visitors of kiosk i to it until ctx is done.
func (d *demo) visit(ctx context.Context, i int, s *sim) {
	rng := mrand.New(mrand.NewPCG(d.o.Seed, uint64(i)))
	// Regulars of this venue come back; everyone else passes by.
	regulars := d.visitors[rng.IntN(len(d.visitors)/2):]
	for ctx.Err() == nil {
		time.Sleep(time.Duration(50+rng.IntN(200)) * time.Millisecond)
		if rng.IntN(50) == 0 {
			s.scan(ctx, d.bad[rng.IntN(len(d.bad))], [16]byte{})
			continue
		}
		v := d.visitors[rng.IntN(len(d.visitors))]
		if rng.IntN(4) == 0 {
			v = regulars[rng.IntN(min(len(regulars), 20))]
		}
		s.scan(ctx, v.text, v.p)
	}
}

// event is a scripted event, at a fraction of the day.
type event struct {
	at   float64
	name string
	do   func() error
}

// script returns the day's events in order; a kiosk restarted runs until
// runCtx is done.
func (d *demo) script(runCtx context.Context) []event {
	return []event{
		{0.25, "outage", func() error {
			d.step("network outage: the NATS server stops; kiosks keep accepting and buffering")
			return d.srv.StopNATS()
		}},
		{0.50, "recovery", func() error {
			d.step("network back: NATS restarts; kiosks catch up")
			return d.srv.StartNATS()
		}},
		{0.60, "kill", func() error {
			d.step("kiosk 02 killed (power cut)")
			d.sims[1].kill()
			return nil
		}},
		{0.70, "restart", func() error {
			d.step("kiosk 02 restarted: its outbox is intact")
			d.sims[1].start(runCtx)
			return nil
		}},
	}
}

// progress prints a line of counts and returns the check-ins accepted at
// the kiosks and stored at the central.
func (d *demo) progress(ctx context.Context, label string) (accepted, stored int) {
	devs, _ := d.srv.Devices(ctx)
	byID := map[string]uint64{}
	for _, dev := range devs {
		byID[dev.ID] = dev.Records
	}
	scanned := 0
	for _, s := range d.sims {
		s.mu.Lock()
		scanned += s.scanned
		accepted += len(s.accepted)
		s.mu.Unlock()
		stored += int(byID[s.device])
	}
	fmt.Fprintf(d.o.Out, "  [%-9s] scanned %5d  accepted %5d  at central %5d  waiting in kiosks %5d\n", label, scanned, accepted, stored, accepted-stored)
	return accepted, stored
}

// drain waits until the central has every accepted check-in, or the
// longer of 30 s and the day has passed.
func (d *demo) drain(ctx context.Context) {
	d.step("the day ends; waiting for every kiosk to finish syncing")
	deadline := time.Now().Add(max(30*time.Second, d.o.Day))
	for {
		acc, st := d.progress(ctx, "drain")
		if st >= acc || time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Second)
	}
}

// verify stops the kiosks and the central, checks the central's store
// against what the kiosks answered and prints the report.
func (d *demo) verify(ctx context.Context) (*Report, error) {
	for _, s := range d.sims {
		s.kill()
	}
	if err := d.closeCentral(); err != nil {
		return nil, fmt.Errorf("demo: close central: %w", err)
	}
	rep, err := check(ctx, &d.ccfg, d.keys, d.sims)
	if err != nil {
		return nil, err
	}
	rep.Dir = d.dir
	out := d.o.Out
	printTable(out, rep)
	t := rep.Totals()
	if t.Lost != 0 || t.Duplicates != 0 || t.Stored != t.Accepted+t.Unanswered {
		return rep, fmt.Errorf("%w: %d lost, %d duplicated (logs in %s)", ErrLostOrDuplicated, t.Lost, t.Duplicates, filepath.Join(d.dir, "logs"))
	}
	fmt.Fprintf(out, "✔ every accepted check-in is stored at the central exactly once: %d accepted, %d stored, 0 lost, 0 duplicates\n", t.Accepted, t.Stored)
	fmt.Fprintf(out, "✔ kiosk 03 booted with its clock at 1970: its check-ins are stored with corrected times, at most %v from the truth\n", rep.Rows[2].ClockError.Round(time.Millisecond))
	return rep, nil
}

// check opens every stored check-in with the province key and compares the
// central's store with what the kiosks answered.
func check(ctx context.Context, cfg *central.Config, keys *province.Keys, sims []*sim) (*Report, error) {
	st, err := central.OpenStore(cfg)
	if err != nil {
		return nil, fmt.Errorf("demo: open the central's store: %w", err)
	}
	defer st.Close()
	// The central keeps personal parts sealed under day keys: open them as
	// an investigator's tools would.
	dk, err := daykeys.Open(filepath.Join(cfg.DataOrDefault(), central.DayKeysFile), keys.KEK()[:], 0)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	rep := &Report{}
	for _, s := range sims {
		row := Row{Kiosk: fmt.Sprintf("%02d", s.idx+1), Device: s.device, Venue: s.venue, Clock: s.clock,
			Scanned: s.scanned, Accepted: len(s.accepted), Already: s.already, Rejected: s.rejected}
		want := map[[16]byte]time.Time{}
		for _, v := range s.accepted {
			want[v.pseudonym] = v.at
		}
		seen := map[[16]byte]bool{}
		maybe := map[[16]byte]bool{} // codes never answered: stored or not
		for _, v := range append(slices.Clone(s.unanswered), s.pending...) {
			maybe[v.pseudonym] = true
		}
		err := st.CheckIns(ctx, s.device, 0, func(c store.CheckIn) bool {
			row.Stored++
			plain, err := dk.Open(daykeys.DayOf(c.Time), c.Sealed, daykeys.AD(c.Device, c.Seq))
			if err != nil {
				row.Duplicates++ // not a check-in any visitor made here
				return true
			}
			p, err := checkin.ParsePersonal(plain)
			if err != nil {
				row.Duplicates++ // not a check-in any visitor made here
				return true
			}
			at, ok := want[p.Pseudonym]
			if (!ok || seen[p.Pseudonym]) && maybe[p.Pseudonym] {
				delete(maybe, p.Pseudonym) // once at most
				row.Unanswered++
				return true
			}
			if !ok || seen[p.Pseudonym] {
				row.Duplicates++
				return true
			}
			seen[p.Pseudonym] = true
			d := c.Time.Sub(at)
			row.ClockError = max(row.ClockError, d, -d)
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("demo: read check-ins: %w", err)
		}
		row.Lost = len(want) - len(seen)
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func printTable(w io.Writer, r *Report) {
	fmt.Fprintf(w, "\n%-6s %-18s %-11s %-6s %8s %8s %8s %8s %10s %6s %5s %10s\n",
		"kiosk", "device", "venue", "clock", "scanned", "accepted", "already", "rejected", "at central", "dups", "lost", "clock err")
	line := func(x Row) {
		fmt.Fprintf(w, "%-6s %-18s %-11s %-6s %8d %8d %8d %8d %10d %6d %5d %10v\n",
			x.Kiosk, x.Device, x.Venue, x.Clock, x.Scanned, x.Accepted, x.Already, x.Rejected, x.Stored, x.Duplicates, x.Lost, x.ClockError.Round(time.Millisecond))
	}
	for _, x := range r.Rows {
		line(x)
	}
	line(r.Totals())
	fmt.Fprintln(w)
}

// keep restarts the central and the kiosks on the same files and leaves
// them running until ctx is done.
func keep(ctx context.Context, cfg central.Config, sims []*sim, out io.Writer) error {
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(cfg.Data), "logs", "central.log"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	srv, err := central.New(cfg, slog.New(slog.NewJSONHandler(logf, nil)))
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	defer srv.Close()
	for _, s := range sims {
		s.start(ctx)
	}
	fmt.Fprintf(out, "still running (Ctrl-C to stop):\n  central HTTP   %s  (GET /health, /metrics; admin token in %s)\n  NATS           %s\n  kiosk data     %s\n  logs           %s\n  after stopping: bin/central stats --data %s\n",
		srv.HTTPURL(), srv.AdminTokenFile(), srv.NATSURL(), filepath.Join(filepath.Dir(cfg.Data), "kiosks"),
		filepath.Join(filepath.Dir(cfg.Data), "logs"), cfg.Data)
	<-ctx.Done()
	for _, s := range sims {
		s.kill()
	}
	return nil
}

// pinAddrs sets the HTTP and embedded NATS listen addresses of cfg to those
// a started central serves, httpURL and natsURL, so that a restart on cfg
// binds the same ports rather than new random ones.
func pinAddrs(cfg *central.Config, httpURL, natsURL string) error {
	hostPort := func(raw string, schemes ...string) (string, error) {
		u, err := url.Parse(raw)
		if err != nil || !slices.Contains(schemes, u.Scheme) || u.Port() == "" {
			return "", fmt.Errorf("pin the central's ports: %q is not a %s:// URL with a port", raw, strings.Join(schemes, ":// or "))
		}
		return u.Host, nil
	}
	h, err := hostPort(httpURL, "http", "https")
	if err != nil {
		return err
	}
	n, err := hostPort(natsURL, "nats", "tls")
	if err != nil {
		return err
	}
	cfg.HTTP, cfg.NATS.Listen = h, n
	return nil
}

// storeName shows a store spec without a password.
func storeName(spec string) string {
	if u, err := url.Parse(spec); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	return spec
}
