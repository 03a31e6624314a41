package kiosk

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

// fakeClock is a Clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	s  Stamp
}

func newFakeClock() *fakeClock {
	return &fakeClock{s: Stamp{Wall: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Quality: checkin.NTPSynced, Boot: [16]byte{1}, Mono: time.Hour}}
}

func (c *fakeClock) Now() Stamp { c.mu.Lock(); defer c.mu.Unlock(); return c.s }

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Wall = c.s.Wall.Add(d)
	c.s.Mono += d
}

// reboot starts a new boot with the given wall clock and quality.
func (c *fakeClock) reboot(wall time.Time, q checkin.TimeQuality) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = Stamp{Wall: wall, Quality: q, Boot: [16]byte{c.s.Boot[0] + 1}, Mono: 10 * time.Second}
}

// recorder is an Indicator that remembers events.
type recorder struct {
	mu     sync.Mutex
	events []feedback.Event
}

func (r *recorder) Indicate(_ context.Context, ev feedback.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

// env is a provisioned kiosk on real files with real province keys.
type env struct {
	t      testing.TB
	dir    string
	keys   *province.Keys
	signer pass.Signer
	dev    *Device
	outbox *Outbox
	kiosk  *Kiosk
	clock  *fakeClock
	rev    *pass.RevocationList
	ind    *recorder
	logs   *bytes.Buffer
	opts   Options
}

func newEnv(t testing.TB, mutate ...func(*Options)) *env {
	t.Helper()
	keys, err := province.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	kdir := filepath.Join(t.TempDir(), "keys")
	if err := keys.Save(kdir); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: filepath.Join(t.TempDir(), "kiosk"), keys: keys, signer: keys.Signer(),
		clock: newFakeClock(), ind: &recorder{}, logs: &bytes.Buffer{}}
	e.dev, err = Provision(e.dir, filepath.Join(kdir, "public.json"), "v-1234567891", e.clock.Now().Wall)
	if err != nil {
		t.Fatal(err)
	}
	e.rev, _ = pass.NewRevocationList()
	e.opts = Options{
		Verifier: pass.NewVerifier(keys.PassKeys(), e.rev), SealTo: keys.SealingPublicKey(),
		DebounceKey: e.dev.DebounceKey(), Clock: e.clock, Indicator: e.ind,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
	}
	for _, m := range mutate {
		m(&e.opts)
	}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	e.t.Helper()
	ob, err := OpenOutbox(filepath.Join(e.dir, FileOutbox), e.dev.PrivateKey())
	if err != nil {
		e.t.Fatal(err)
	}
	e.outbox = ob
	o := e.opts
	o.Outbox = ob
	if e.kiosk, err = New(o); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) close() {
	if e.kiosk != nil {
		e.kiosk.Close()
		e.outbox.Close()
		e.kiosk, e.outbox = nil, nil
	}
}

// reopen simulates a restart of the daemon on the same files.
func (e *env) reopen() { e.close(); e.open() }

// issue makes a valid pass text.
func (e *env) issue(mut ...func(*pass.Pass)) (string, pass.Pass) {
	e.t.Helper()
	now := e.clock.Now().Wall
	p := pass.Pass{Kind: pass.KindApp, Issued: now.Add(-time.Hour), Expires: now.Add(365 * 24 * time.Hour)}
	rand.Read(p.Pseudonym[:])
	for _, m := range mut {
		m(&p)
	}
	text, err := e.signer.Issue(p)
	if err != nil {
		e.t.Fatal(err)
	}
	return text, p
}

func (e *env) scan(text string) Outcome {
	return e.kiosk.HandleScan(context.Background(), scannerScan(text, false))
}

// verify checks the outbox chain and returns its stats.
func (e *env) verify() OutboxStats {
	e.t.Helper()
	st, err := e.outbox.Verify(e.dev.PublicKey)
	if err != nil {
		e.t.Fatal(err)
	}
	if !st.ChainOK {
		e.t.Fatalf("chain broken: %s", st.Problem)
	}
	return st
}

// records returns the decoded records and their opened personal parts.
func (e *env) records() ([]*checkin.Record, []checkin.Personal) {
	e.t.Helper()
	var recs []*checkin.Record
	var pers []checkin.Personal
	err := e.outbox.Scan(0, func(seq uint64, b []byte) bool {
		r, err := checkin.Decode(b)
		if err != nil {
			e.t.Fatal(err)
		}
		p, err := checkin.Open(r.Sealed, e.keys.SealingPublicKey(), e.keys.SealingPrivateKey())
		if err != nil {
			e.t.Fatal(err)
		}
		recs, pers = append(recs, r), append(pers, p)
		return true
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return recs, pers
}
