// Package storetest is the conformance test of store.Store: every backend
// runs it from its own tests, in the manner of x/mod's
// sumdb/storage.TestStorage.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, name string) store.Store { ... })
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// Opener opens the store called name for the test t. The first time t
// opens a name, the store is empty; after the suite closed it, opening the
// same name again in the same test gives back the same data. Different
// tests never share data. The suite closes every store it opens.
type Opener func(t *testing.T, name string) store.Store

// Run runs the conformance suite against the backend that open opens.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"Venues", testVenues},
		{"Devices", testDevices},
		{"Tokens", testTokens},
		{"APITokens", testAPITokens}, {"APITokens_Concurrent", testAPITokensConcurrent},
		{"Accounts", testAccounts}, {"Accounts_SessionsExpire", testSessionsExpire},
		{"Ingest_Idempotent", testIngestIdempotent},
		{"Ingest_Overlap", testIngestOverlap},
		{"Ingest_StateNeverBackwards", testStateNeverBackwards},
		{"Ingest_UnknownDevice", testIngestUnknownDevice},
		{"Ingest_Invalid", testIngestInvalid},
		{"Ingest_Break", testIngestBreak},
		{"Ingest_Concurrent", testIngestConcurrent},
		{"Boots", testBoots},
		{"Quarantine", testQuarantine},
		{"Quarantine_Retention", testQuarantineRetention}, {"Quarantine_Usage", testQuarantineUsage},
		{"CheckIns_Order", testCheckInsOrder},
		{"Reopen", testReopen},
		{"Vault", testVault},
		{"Retention_DropDay", testDropDay},
		{"Retention_Audit", testAudit},
		{"Retention_AuditAccount", testAuditAccount},
		{"Retention_BindDayKeys", testBindDayKeys},
		{"Registry", testRegistry},
		{"Tracing", testTracing},
		{"Ledger", testLedger}, {"Ledger_Concurrent", testLedgerConcurrent},
		{"DeviceStatuses", testDeviceStatuses},
		{"Cases", testCases},
		{"FollowUps", testFollowUps}, {"Notifications", testNotifications}, {"FollowUpRetention", testFollowUpRetention},
		{"Apps", testApps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, &harness{t: t, open: open, ctx: context.Background()})
		})
	}
}

// harness opens stores for one test and closes them when it ends.
type harness struct {
	t    *testing.T
	open Opener
	ctx  context.Context
}

func (h *harness) store(name string) *closer {
	h.t.Helper()
	s := h.open(h.t, name)
	if s == nil {
		h.t.Fatalf("open %q returned nil", name)
	}
	c := &closer{Store: s}
	h.t.Cleanup(func() {
		if err := c.close(); err != nil {
			h.t.Errorf("close %q: %v", name, err)
		}
	})
	return c
}

type closer struct {
	store.Store
	once sync.Once
	err  error
}

func (c *closer) close() error {
	c.once.Do(func() { c.err = c.Store.Close() })
	return c.err
}

// base is a time with microseconds only, for the registry's times.
var base = time.Date(2026, 11, 26, 9, 30, 15, 123456000, time.UTC)

func newDevice(t *testing.T, id, venue string) store.Device {
	t.Helper()
	seed := sha256.Sum256([]byte("storetest device " + id))
	key := ed25519.NewKeyFromSeed(seed[:])
	return store.Device{
		ID:        id,
		Venue:     venue,
		PublicKey: key.Public().(ed25519.PublicKey),
		NKey:      "UDEVICE" + id,
		Enrolled:  base,
	}
}

// enroll adds a venue and a device of it.
func enroll(t *testing.T, s store.Store, device, venue string) store.Device {
	t.Helper()
	ctx := context.Background()
	if err := s.AddVenue(ctx, store.Venue{ID: venue, Name: "Venue " + venue, Created: base}); err != nil && !errors.Is(err, store.ErrExists) {
		t.Fatal(err)
	}
	d := newDevice(t, device, venue)
	if err := s.AddDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// chain makes the device's check-ins 1..n as a kiosk would: canonical
// records chained from the genesis hash, with nanosecond times and varied
// fields. hashes[i] is the chain hash after record i (hashes[0] genesis).
type chain struct {
	device, venue string
	recs          []store.CheckIn // recs[i] has seq i+1
	hashes        []checkin.Hash
}

func newChain(t *testing.T, device, venue string, n int) *chain {
	t.Helper()
	c := &chain{device: device, venue: venue, hashes: []checkin.Hash{checkin.Genesis(device)}}
	for i := range n {
		seq := uint64(i + 1)
		sealed := make([]byte, checkin.SealedLen)
		for j := range sealed {
			sealed[j] = byte(int(seq)*31 + j)
		}
		r := checkin.Record{
			Device:  device,
			Seq:     seq,
			Venue:   venue,
			Wall:    time.Date(2026, 11, 26, 10, 0, i, 123456789+i, time.UTC),
			Quality: checkin.TimeQuality(1 + i%3),
			Boot:    [16]byte{byte(i / 4), 0xb0},
			Mono:    time.Duration(i)*time.Second + 987654321,
			Kind:    checkin.Kind(1 + i%2),
			Sealed:  sealed,
		}
		canon, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		h := checkin.Next(c.hashes[i], canon)
		c.hashes = append(c.hashes, h)
		ci := store.CheckIn{
			Device: device, Seq: seq, Venue: venue, Kind: r.Kind,
			RawWall: r.Wall, Quality: r.Quality, Boot: r.Boot, Mono: r.Mono,
			Time:     r.Wall.Add(-time.Duration(i) * time.Microsecond),
			Sealed:   sealed,
			Flags:    uint32(i % 4),
			Received: base.Add(time.Duration(i) * time.Second),
			Hash:     h,
			Tag:      [16]byte{byte(seq), 0x7a},
		}
		c.recs = append(c.recs, ci)
	}
	return c
}

// batch returns the store batch of records first..last.
func (c *chain) batch(first, last uint64) store.Batch {
	return store.Batch{
		Device:   c.device,
		Records:  slices.Clone(c.recs[first-1 : last]),
		LastSeq:  last,
		LastHash: c.hashes[last],
	}
}

func ingest(t *testing.T, s store.Store, b store.Batch, wantStored int) {
	t.Helper()
	n, err := s.Ingest(context.Background(), b)
	if err != nil {
		t.Fatalf("Ingest %s %d records: %v", b.Device, len(b.Records), err)
	}
	if n != wantStored {
		t.Fatalf("Ingest %s %d..%d stored %d, want %d", b.Device, b.Records[0].Seq, b.Records[len(b.Records)-1].Seq, n, wantStored)
	}
}

func state(t *testing.T, s store.Store, device string) store.DeviceState {
	t.Helper()
	st, err := s.State(context.Background(), device)
	if err != nil {
		t.Fatalf("State %s: %v", device, err)
	}
	return st
}

func checkState(t *testing.T, s store.Store, want store.DeviceState) {
	t.Helper()
	if got := state(t, s, want.Device); got != want {
		t.Fatalf("State %s:\n got  seq %d hash %x records %d quarantined %d breaks %d\n want seq %d hash %x records %d quarantined %d breaks %d",
			want.Device, got.LastSeq, got.LastHash[:4], got.Records, got.Quarantined, got.Breaks,
			want.LastSeq, want.LastHash[:4], want.Records, want.Quarantined, want.Breaks)
	}
}

// checkIns returns all of a device's check-ins from seq from.
func checkIns(t *testing.T, s store.Store, device string, from uint64) []store.CheckIn {
	t.Helper()
	var out []store.CheckIn
	if err := s.CheckIns(context.Background(), device, from, func(c store.CheckIn) bool {
		out = append(out, c)
		return true
	}); err != nil {
		t.Fatalf("CheckIns %s from %d: %v", device, from, err)
	}
	return out
}

// checkStored checks that the device's stored check-ins are exactly
// want, field for field, and that each one's canonical record can be
// rebuilt and links to its chain hash.
func checkStored(t *testing.T, s store.Store, c *chain, want []store.CheckIn) {
	t.Helper()
	got := checkIns(t, s, c.device, 0)
	if len(got) != len(want) {
		t.Fatalf("CheckIns %s: %d records (%s), want %d (%s)", c.device, len(got), seqs(got), len(want), seqs(want))
	}
	for i := range got {
		if d := diffCheckIn(got[i], want[i]); d != "" {
			t.Fatalf("check-in %s/%d: %s", c.device, want[i].Seq, d)
		}
		r := checkin.Record{Device: got[i].Device, Seq: got[i].Seq, Venue: got[i].Venue, Wall: got[i].RawWall,
			Quality: got[i].Quality, Boot: got[i].Boot, Mono: got[i].Mono, Kind: got[i].Kind, Sealed: got[i].Sealed}
		canon, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("check-in %s/%d: rebuild record: %v", c.device, got[i].Seq, err)
		}
		if checkin.Next(c.hashes[got[i].Seq-1], canon) != got[i].Hash {
			t.Fatalf("check-in %s/%d: rebuilt record does not link to its stored hash", c.device, got[i].Seq)
		}
	}
}

func seqs(cs []store.CheckIn) string {
	var b bytes.Buffer
	for i, c := range cs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, c.Seq)
	}
	return b.String()
}

func diffCheckIn(got, want store.CheckIn) string {
	switch {
	case got.Device != want.Device || got.Seq != want.Seq || got.Venue != want.Venue:
		return fmt.Sprintf("identity %s/%d@%s, want %s/%d@%s", got.Device, got.Seq, got.Venue, want.Device, want.Seq, want.Venue)
	case got.Kind != want.Kind || got.Quality != want.Quality || got.Flags != want.Flags:
		return fmt.Sprintf("kind %v quality %v flags %b, want %v %v %b", got.Kind, got.Quality, got.Flags, want.Kind, want.Quality, want.Flags)
	case !got.RawWall.Equal(want.RawWall) || !got.Time.Equal(want.Time) || !got.Received.Equal(want.Received):
		return fmt.Sprintf("times raw %v corrected %v received %v, want %v %v %v", got.RawWall, got.Time, got.Received, want.RawWall, want.Time, want.Received)
	case got.Boot != want.Boot || got.Mono != want.Mono:
		return fmt.Sprintf("boot %x mono %v, want %x %v", got.Boot, got.Mono, want.Boot, want.Mono)
	case !bytes.Equal(got.Sealed, want.Sealed):
		return "sealed part differs"
	case got.Hash != want.Hash:
		return "chain hash differs"
	case got.Tag != want.Tag:
		return "tag differs"
	}
	return ""
}

// Ensure that venues are added once, found by id and listed in id order.
func testVenues(t *testing.T, h *harness) {
	s := h.store("venues")
	ctx := h.ctx
	if _, err := s.Venue(ctx, "v-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Venue of unknown id: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"v-2", "v-1", "v-3"} {
		if err := s.AddVenue(ctx, store.Venue{ID: id, Name: "Café " + id, Created: base}); err != nil {
			t.Fatalf("AddVenue %s: %v", id, err)
		}
	}
	if err := s.AddVenue(ctx, store.Venue{ID: "v-2", Name: "other"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("AddVenue twice: %v, want ErrExists", err)
	}
	v, err := s.Venue(ctx, "v-2")
	if err != nil || v.ID != "v-2" || v.Name != "Café v-2" || !v.Created.Equal(base) {
		t.Fatalf("Venue v-2 = %+v, %v", v, err)
	}
	vs, err := s.Venues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	if !slices.Equal(ids, []string{"v-1", "v-2", "v-3"}) {
		t.Fatalf("Venues = %v, want v-1 v-2 v-3", ids)
	}
}

// Ensure that devices are added once, found by id, listed in id order,
// and start with an empty chain at the genesis hash.
func testDevices(t *testing.T, h *harness) {
	s := h.store("devices")
	ctx := h.ctx
	if _, err := s.Device(ctx, "k-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Device of unknown id: %v, want ErrNotFound", err)
	}
	if _, err := s.State(ctx, "k-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("State of unknown device: %v, want ErrNotFound", err)
	}
	want := enroll(t, s, "k-2", "v-1")
	enroll(t, s, "k-1", "v-1")
	if err := s.AddDevice(ctx, newDevice(t, "k-2", "v-9")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("AddDevice twice: %v, want ErrExists", err)
	}
	got, err := s.Device(ctx, "k-2")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.Venue != want.Venue || !got.PublicKey.Equal(want.PublicKey) || got.NKey != want.NKey || !got.Enrolled.Equal(want.Enrolled) {
		t.Fatalf("Device k-2 = %+v, want %+v", got, want)
	}
	ds, err := s.Devices(ctx)
	if err != nil || len(ds) != 2 || ds[0].ID != "k-1" || ds[1].ID != "k-2" {
		t.Fatalf("Devices = %+v, %v; want k-1, k-2", ds, err)
	}
	checkState(t, s, store.DeviceState{Device: "k-2", LastHash: checkin.Genesis("k-2")})
}

// Ensure that an enrollment token works once, only before it expires.
func testTokens(t *testing.T, h *harness) {
	s := h.store("tokens")
	ctx := h.ctx
	tok := func(text string) [32]byte { return sha256.Sum256([]byte(text)) }
	if err := s.AddToken(ctx, store.Token{Hash: tok("a"), Venue: "v-1", Expires: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, store.Token{Hash: tok("b"), Venue: "v-2", Expires: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, store.Token{Hash: tok("a"), Venue: "v-3", Expires: base.Add(time.Hour)}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("AddToken twice: %v, want ErrExists", err)
	}
	if _, err := s.UseToken(ctx, tok("unknown"), base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UseToken of unknown token: %v, want ErrNotFound", err)
	}
	got, err := s.UseToken(ctx, tok("a"), base.Add(59*time.Minute))
	if err != nil {
		t.Fatalf("UseToken: %v", err)
	}
	if got.Venue != "v-1" || !got.Used || got.Hash != tok("a") || !got.Expires.Equal(base.Add(time.Hour)) {
		t.Fatalf("UseToken = %+v", got)
	}
	if _, err := s.UseToken(ctx, tok("a"), base.Add(59*time.Minute)); !errors.Is(err, store.ErrTokenUsed) {
		t.Fatalf("UseToken twice: %v, want ErrTokenUsed", err)
	}
	if _, err := s.UseToken(ctx, tok("b"), base.Add(time.Hour)); !errors.Is(err, store.ErrTokenUsed) {
		t.Fatalf("UseToken at expiry: %v, want ErrTokenUsed", err)
	}
	if _, err := s.UseToken(ctx, tok("b"), base.Add(2*time.Hour)); !errors.Is(err, store.ErrTokenUsed) {
		t.Fatalf("UseToken after expiry: %v, want ErrTokenUsed", err)
	}
}

// Ensure that ingesting the same batch twice stores it once and counts it
// once, keeping every field.
func testIngestIdempotent(t *testing.T, h *harness) {
	s := h.store("ingest")
	enroll(t, s, "k-1", "v-1")
	c := newChain(t, "k-1", "v-1", 5)
	ingest(t, s, c.batch(1, 5), 5)
	ingest(t, s, c.batch(1, 5), 0)
	checkState(t, s, store.DeviceState{Device: "k-1", LastSeq: 5, LastHash: c.hashes[5], Records: 5})
	checkStored(t, s, c, c.recs)

	// A redelivered copy with other corrected times changes nothing.
	again := c.batch(1, 5)
	for i := range again.Records {
		again.Records[i].Time = time.Unix(0, 0)
		again.Records[i].Flags = 0xff
	}
	ingest(t, s, again, 0)
	checkStored(t, s, c, c.recs)
}

// Ensure that overlapping batches store only their new records.
func testIngestOverlap(t *testing.T, h *harness) {
	s := h.store("overlap")
	enroll(t, s, "k-1", "v-1")
	c := newChain(t, "k-1", "v-1", 12)
	ingest(t, s, c.batch(1, 5), 5)
	ingest(t, s, c.batch(3, 8), 3)
	ingest(t, s, c.batch(1, 12), 4)
	checkState(t, s, store.DeviceState{Device: "k-1", LastSeq: 12, LastHash: c.hashes[12], Records: 12})
	checkStored(t, s, c, c.recs)
}

// Ensure that a batch filling a hole below the device's last sequence is
// stored, and that the state never moves backwards.
func testStateNeverBackwards(t *testing.T, h *harness) {
	s := h.store("backwards")
	enroll(t, s, "k-1", "v-1")
	c := newChain(t, "k-1", "v-1", 12)
	ingest(t, s, c.batch(1, 4), 4)
	ingest(t, s, c.batch(9, 12), 4)
	checkState(t, s, store.DeviceState{Device: "k-1", LastSeq: 12, LastHash: c.hashes[12], Records: 8})
	ingest(t, s, c.batch(5, 8), 4)
	checkState(t, s, store.DeviceState{Device: "k-1", LastSeq: 12, LastHash: c.hashes[12], Records: 12})
	ingest(t, s, c.batch(1, 2), 0)
	checkState(t, s, store.DeviceState{Device: "k-1", LastSeq: 12, LastHash: c.hashes[12], Records: 12})
	checkStored(t, s, c, c.recs)
}

// Ensure that a device that is not enrolled cannot ingest.
func testIngestUnknownDevice(t *testing.T, h *harness) {
	s := h.store("unknown")
	c := newChain(t, "k-1", "v-1", 3)
	if _, err := s.Ingest(h.ctx, c.batch(1, 3)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Ingest of unknown device: %v, want ErrNotFound", err)
	}
	enroll(t, s, "k-1", "v-1")
	if got := checkIns(t, s, "k-1", 0); len(got) != 0 {
		t.Fatalf("unknown device's batch stored %d records", len(got))
	}
}

// Ensure that an invalid batch is refused whole.
func testIngestInvalid(t *testing.T, h *harness) {
	s := h.store("invalid")
	enroll(t, s, "k-1", "v-1")
	enroll(t, s, "k-2", "v-1")
	c := newChain(t, "k-1", "v-1", 4)
	other := newChain(t, "k-2", "v-1", 4)
	tests := []struct {
		name string
		b    store.Batch
	}{
		{"other device", func() store.Batch {
			b := c.batch(1, 4)
			b.Records[3] = other.recs[3]
			return b
		}()},
		{"descending", func() store.Batch {
			b := c.batch(1, 4)
			b.Records[1], b.Records[2] = b.Records[2], b.Records[1]
			return b
		}()},
		{"repeated", func() store.Batch {
			b := c.batch(1, 4)
			b.Records[2] = b.Records[1]
			return b
		}()},
	}
	for _, tt := range tests {
		if _, err := s.Ingest(h.ctx, tt.b); err == nil {
			t.Errorf("Ingest of a batch with %s records succeeded", tt.name)
		}
	}
	if got := checkIns(t, s, "k-1", 0); len(got) != 0 {
		t.Fatalf("refused batches stored %d records", len(got))
	}
	checkState(t, s, store.DeviceState{Device: "k-1", LastHash: checkin.Genesis("k-1")})
}

// Ensure that a batch's break entry is stored with it, counted, and not
// repeated when the batch is ingested again.
func testIngestBreak(t *testing.T, h *harness) {
	s := h.store("break")
	enroll(t, s, "k-1", "v-1")
	c := newChain(t, "k-1", "v-1", 8)
	ingest(t, s, c.batch(1, 3), 3)
	b := c.batch(6, 8)
	for i := range b.Records {
		b.Records[i].Flags |= store.FlagAfterBreak
	}
	b.Break = &store.Quarantine{Subject: "anshim.checkins.v-1.k-1", Reason: "sequence-gap", Detail: "batch 6-8 after 3", Received: base}
	ingest(t, s, b, 3)
	ingest(t, s, b, 0)
	checkState(t, s, store.DeviceState{Device: "k-1", LastSeq: 8, LastHash: c.hashes[8], Records: 6, Quarantined: 1, Breaks: 1})
	qs, err := s.Quarantined(h.ctx, "k-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || qs[0].Device != "k-1" || qs[0].Reason != "sequence-gap" || qs[0].Detail != "batch 6-8 after 3" || qs[0].Subject != b.Break.Subject || !qs[0].Received.Equal(base) || qs[0].ID == 0 {
		t.Fatalf("Quarantined = %+v, want the one break entry", qs)
	}
	got := checkIns(t, s, "k-1", 6)
	if len(got) != 3 || got[0].Flags&store.FlagAfterBreak == 0 {
		t.Fatalf("records after the break: %+v", got)
	}
}

// Ensure that concurrent overlapping Ingests store every record once.
func testIngestConcurrent(t *testing.T, h *harness) {
	s := h.store("concurrent")
	enroll(t, s, "k-1", "v-1")
	const n = 60
	c := newChain(t, "k-1", "v-1", n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range 10 {
				first := 1 + rng.Uint64N(n)
				last := min(first+rng.Uint64N(15), n)
				k, err := s.Ingest(h.ctx, c.batch(first, last))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += k
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	k, err := s.Ingest(h.ctx, c.batch(1, n))
	if err != nil {
		t.Fatal(err)
	}
	if total += k; total != n {
		t.Fatalf("concurrent Ingests reported %d new records in all, want %d", total, n)
	}
	checkState(t, s, store.DeviceState{Device: "k-1", LastSeq: n, LastHash: c.hashes[n], Records: n})
	checkStored(t, s, c, c.recs)
}

// Ensure that boot starts are kept per device and boot, the earliest
// estimate winning.
func testBoots(t *testing.T, h *harness) {
	s := h.store("boots")
	enroll(t, s, "k-1", "v-1")
	enroll(t, s, "k-2", "v-1")
	c := newChain(t, "k-1", "v-1", 3)
	boot1, boot2 := [16]byte{1}, [16]byte{2}
	start := time.Date(2026, 11, 26, 6, 0, 0, 123456789, time.UTC)
	bootStart := func(device string, boot [16]byte) (time.Time, bool) {
		t.Helper()
		got, ok, err := s.BootStart(h.ctx, device, boot)
		if err != nil {
			t.Fatal(err)
		}
		return got, ok
	}
	if _, ok := bootStart("k-1", boot1); ok {
		t.Fatal("BootStart known before any batch")
	}
	b := c.batch(1, 1)
	b.Boots = map[[16]byte]time.Time{boot1: start.Add(time.Second), boot2: start.Add(time.Hour)}
	ingest(t, s, b, 1)
	b = c.batch(2, 2)
	b.Boots = map[[16]byte]time.Time{boot1: start.Add(3 * time.Second)} // later estimate: ignored
	ingest(t, s, b, 1)
	b = c.batch(3, 3)
	b.Boots = map[[16]byte]time.Time{boot1: start} // earlier estimate: kept
	ingest(t, s, b, 1)
	if got, ok := bootStart("k-1", boot1); !ok || !got.Equal(start) {
		t.Fatalf("BootStart k-1 boot 1 = %v, %v; want %v", got, ok, start)
	}
	if got, ok := bootStart("k-1", boot2); !ok || !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("BootStart k-1 boot 2 = %v, %v; want %v", got, ok, start.Add(time.Hour))
	}
	if _, ok := bootStart("k-2", boot1); ok {
		t.Fatal("BootStart of another device's boot is known")
	}
	// A duplicate batch still teaches a boot start.
	b = c.batch(1, 3)
	b.Boots = map[[16]byte]time.Time{boot2: start}
	ingest(t, s, b, 0)
	if got, _ := bootStart("k-1", boot2); !got.Equal(start) {
		t.Fatalf("BootStart after a duplicate batch = %v, want %v", got, start)
	}
}

// Ensure that quarantine entries keep their payload and every field byte
// for byte (a zero Day comes back as 00:00 KST of the day received), get
// increasing ids, are listed per device and in all, and are counted for
// enrolled devices.
func testQuarantine(t *testing.T, h *harness) {
	s := h.store("quarantine")
	enroll(t, s, "k-1", "v-1")
	payload := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	entries := []store.Quarantine{
		{Device: "k-1", Subject: "anshim.checkins.v-1.k-1", Reason: "bad-signature", Detail: "head at seq 9", Received: base, Payload: payload,
			Day: kstMidnight(base.AddDate(0, 0, -2)), First: 3, Last: 9, Sum: sha256.Sum256(payload), Size: len(payload) - 40},
		{Device: "k-9", Subject: "anshim.checkins.v-1.k-9", Reason: "unknown-device", Received: base.Add(time.Second), Payload: []byte("ANB1\x00")},
		{Device: "", Subject: "anshim.checkins.x", Reason: "malformed", Detail: "truncated", Received: base.Add(2 * time.Second), Payload: nil},
		{Device: "k-1", Subject: "anshim.checkins.v-1.k-1", Reason: "cannot-open", Received: base.Add(3 * time.Second), Payload: []byte{0}},
	}
	var last uint64
	for i := range entries {
		id, err := s.AddQuarantine(h.ctx, entries[i])
		if err != nil {
			t.Fatalf("AddQuarantine %d: %v", i, err)
		}
		if id <= last {
			t.Fatalf("AddQuarantine %d: id %d after %d", i, id, last)
		}
		entries[i].ID, last = id, id
	}
	check := func(device string, want ...store.Quarantine) {
		t.Helper()
		got, err := s.Quarantined(h.ctx, device)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("Quarantined(%q): %d entries, want %d", device, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			wantDay := w.Day
			if wantDay.IsZero() {
				wantDay = kstMidnight(w.Received)
			}
			if g.ID != w.ID || g.Device != w.Device || g.Subject != w.Subject || g.Reason != w.Reason || g.Detail != w.Detail || !g.Received.Equal(w.Received) ||
				!g.Day.Equal(wantDay) || g.First != w.First || g.Last != w.Last || g.Sum != w.Sum || g.Size != w.Size {
				t.Fatalf("Quarantined(%q)[%d] = %+v, want %+v", device, i, g, w)
			}
			if !bytes.Equal(g.Payload, w.Payload) {
				t.Fatalf("Quarantined(%q)[%d]: payload of %d bytes differs from the %d bytes stored", device, i, len(g.Payload), len(w.Payload))
			}
		}
	}
	check("k-1", entries[0], entries[3])
	check("k-9", entries[1])
	check("", entries...)
	check("k-2")
	checkState(t, s, store.DeviceState{Device: "k-1", LastHash: checkin.Genesis("k-1"), Quarantined: 2})
}

// Ensure that CheckIns walks one device's records in sequence order from
// the given sequence, stops when told, and does not mix devices.
func testCheckInsOrder(t *testing.T, h *harness) {
	s := h.store("order")
	// Device ids chosen so that a careless key layout would interleave them.
	enroll(t, s, "k", "v-1")
	enroll(t, s, "k-1", "v-1")
	enroll(t, s, "k\x00", "v-1")
	const n = 600 // more than one page or chunk
	c := newChain(t, "k", "v-1", n)
	for _, id := range []string{"k-1", "k\x00"} {
		o := newChain(t, id, "v-1", 20)
		ingest(t, s, o.batch(1, 20), 20)
	}
	for first := uint64(1); first <= n; first += 100 {
		ingest(t, s, c.batch(first, first+99), 100)
	}
	checkStored(t, s, c, c.recs)
	if got := checkIns(t, s, "k", 257); len(got) != n-256 || got[0].Seq != 257 || got[len(got)-1].Seq != n {
		t.Fatalf("CheckIns from 257: %d records %d..", len(got), got[0].Seq)
	}
	var seen []uint64
	if err := s.CheckIns(h.ctx, "k", 10, func(c store.CheckIn) bool {
		seen = append(seen, c.Seq)
		return len(seen) < 3
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []uint64{10, 11, 12}) {
		t.Fatalf("CheckIns stopping after 3: saw %v", seen)
	}
	if got := checkIns(t, s, "k", n+1); len(got) != 0 {
		t.Fatalf("CheckIns past the end: %d records", len(got))
	}
	if got := checkIns(t, s, "nobody", 0); len(got) != 0 {
		t.Fatalf("CheckIns of an unknown device: %d records", len(got))
	}
}

// Ensure that everything survives closing and reopening the store.
func testReopen(t *testing.T, h *harness) {
	s := h.store("reopen")
	ctx := h.ctx
	d := enroll(t, s, "k-1", "v-1")
	tok := sha256.Sum256([]byte("token"))
	if err := s.AddToken(ctx, store.Token{Hash: tok, Venue: "v-1", Expires: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseToken(ctx, tok, base); err != nil {
		t.Fatal(err)
	}
	c := newChain(t, "k-1", "v-1", 6)
	b := c.batch(1, 6)
	b.Boots = map[[16]byte]time.Time{{7}: base}
	b.Break = &store.Quarantine{Reason: "chain-break", Received: base}
	ingest(t, s, b, 6)
	if _, err := s.AddQuarantine(ctx, store.Quarantine{Device: "k-1", Reason: "malformed", Received: base, Payload: []byte("payload")}); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = h.store("reopen")
	if _, err := s.Venue(ctx, "v-1"); err != nil {
		t.Fatalf("venue after reopen: %v", err)
	}
	if got, err := s.Device(ctx, "k-1"); err != nil || !got.PublicKey.Equal(d.PublicKey) {
		t.Fatalf("device after reopen: %+v, %v", got, err)
	}
	if _, err := s.UseToken(ctx, tok, base); !errors.Is(err, store.ErrTokenUsed) {
		t.Fatalf("UseToken after reopen: %v, want ErrTokenUsed", err)
	}
	checkState(t, s, store.DeviceState{Device: "k-1", LastSeq: 6, LastHash: c.hashes[6], Records: 6, Quarantined: 2, Breaks: 1})
	checkStored(t, s, c, c.recs)
	if got, ok, err := s.BootStart(ctx, "k-1", [16]byte{7}); err != nil || !ok || !got.Equal(base) {
		t.Fatalf("BootStart after reopen = %v, %v, %v", got, ok, err)
	}
	qs, err := s.Quarantined(ctx, "k-1")
	if err != nil || len(qs) != 2 || qs[0].Reason != "chain-break" || string(qs[1].Payload) != "payload" {
		t.Fatalf("Quarantined after reopen = %+v, %v", qs, err)
	}
	ingest(t, s, c.batch(1, 6), 0)
}
