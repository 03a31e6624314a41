package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/internal/logtest"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// truth is the true time the tests' kiosks live in.
var truth = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

var (
	bootA = [16]byte{0xa}
	bootB = [16]byte{0xb}
	bootC = [16]byte{0xc}
)

// fixture is a province, a central store and an Ingester over it.
type fixture struct {
	t       *testing.T
	keys    *province.Keys
	store   *boltstore.Store
	in      *Ingester
	metrics *Metrics
	logs    *syncBuffer
}

// syncBuffer is a concurrency-safe log destination.
type syncBuffer = logtest.Buffer

// newKeys returns province keys made from a fixed seed.
func newKeys(t testing.TB, name string) *province.Keys {
	t.Helper()
	keys, err := province.Generate(bytes.NewReader(bytes.Repeat([]byte(name), 4096)), name)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func newFixture(t testing.TB, wrap func(store.Store) store.Store, mod func(*Config)) *fixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "central.db"), &boltstore.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{keys: newKeys(t, "jeju"), store: st, metrics: new(Metrics), logs: new(syncBuffer)}
	if tt, ok := t.(*testing.T); ok {
		f.t = tt
	}
	var s store.Store = st
	if wrap != nil {
		s = wrap(st)
	}
	cfg := Config{
		Store:    s,
		SealPub:  f.keys.SealingPublicKey(),
		SealPriv: f.keys.SealingPrivateKey(),
		Log:      slog.New(slog.NewTextHandler(f.logs, nil)),
		Now:      func() time.Time { return truth.Add(time.Hour) },
		Metrics:  f.metrics,
	}
	if mod != nil {
		mod(&cfg)
	}
	if f.in, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

// enroll adds a venue (if new) and a device of it, returning the device key.
func (f *fixture) enroll(t testing.TB, device, venue string) ed25519.PrivateKey {
	t.Helper()
	ctx := context.Background()
	if err := f.store.AddVenue(ctx, store.Venue{ID: venue, Name: venue, Created: truth}); err != nil && !errors.Is(err, store.ErrExists) {
		t.Fatal(err)
	}
	key := deviceKey(device)
	if err := f.store.AddDevice(ctx, store.Device{ID: device, Venue: venue, PublicKey: key.Public().(ed25519.PublicKey), Enrolled: truth}); err != nil {
		t.Fatal(err)
	}
	return key
}

func deviceKey(device string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("device key " + device))
	return ed25519.NewKeyFromSeed(seed[:])
}

// fakeKiosk builds a device's chain of records and its batches, as the
// kiosk's outbox and uplink would.
type fakeKiosk struct {
	t             testing.TB
	device, venue string
	key           ed25519.PrivateKey
	sealer        *checkin.Sealer
	recs          [][]byte       // recs[i] is seq i+1
	hashes        []checkin.Hash // hashes[i] after seq i; hashes[0] genesis
	pseudonyms    [][16]byte
}

func newKiosk(t testing.TB, keys *province.Keys, device, venue string, key ed25519.PrivateKey) *fakeKiosk {
	s := checkin.NewSealer(keys.SealingPublicKey(), 0, bytes.NewReader(bytes.Repeat([]byte("seal randomness "), 1<<16)))
	return &fakeKiosk{t: t, device: device, venue: venue, key: key, sealer: s, hashes: []checkin.Hash{checkin.Genesis(device)}}
}

// add appends a record; zero fields get defaults (ntp-synced, boot A,
// taken at truth + seq seconds, sealed to the province).
func (k *fakeKiosk) add(r checkin.Record) {
	k.t.Helper()
	seq := uint64(len(k.recs) + 1)
	r.Device, r.Seq = k.device, seq
	if r.Venue == "" {
		r.Venue = k.venue
	}
	if r.Quality == 0 {
		r.Quality = checkin.NTPSynced
	}
	if r.Boot == ([16]byte{}) {
		r.Boot = bootA
	}
	if r.Mono == 0 {
		r.Mono = time.Duration(seq) * time.Second
	}
	if r.Wall.IsZero() {
		r.Wall = truth.Add(time.Duration(seq) * time.Second)
	}
	if r.Kind == 0 {
		r.Kind = checkin.Entry
	}
	var p [16]byte
	copy(p[:], fmt.Sprintf("person-%s-%d", k.device, seq))
	if r.Sealed == nil {
		var err error
		if r.Sealed, err = k.sealer.Seal(checkin.Personal{Pseudonym: p, PassKind: 1, Serial: uint32(seq)}); err != nil {
			k.t.Fatal(err)
		}
	}
	raw, err := r.MarshalBinary()
	if err != nil {
		k.t.Fatal(err)
	}
	k.recs = append(k.recs, raw)
	k.hashes = append(k.hashes, checkin.Next(k.hashes[len(k.hashes)-1], raw))
	k.pseudonyms = append(k.pseudonyms, p)
}

func (k *fakeKiosk) addN(n int) *fakeKiosk {
	for range n {
		k.add(checkin.Record{})
	}
	return k
}

// fork returns a kiosk sharing this one's records before seq at, as a
// kiosk restored from an old backup would.
func (k *fakeKiosk) fork(at uint64) *fakeKiosk {
	c := *k
	c.recs = append([][]byte(nil), k.recs[:at-1]...)
	c.hashes = append([]checkin.Hash(nil), k.hashes[:at]...)
	c.pseudonyms = append([][16]byte(nil), k.pseudonyms[:at-1]...)
	return &c
}

// sent is a default send stamp: boot A, with a synced clock, an hour on.
func sentStamp() wire.Stamp {
	return wire.Stamp{Wall: truth.Add(time.Hour), Quality: checkin.NTPSynced, Boot: bootA, Mono: time.Hour}
}

// batch returns the batch of records first..last, head signed by the
// kiosk.
func (k *fakeKiosk) batch(first, last uint64, sent wire.Stamp) *wire.Batch {
	return &wire.Batch{
		Device:  k.device,
		Venue:   k.venue,
		Prev:    k.hashes[first-1],
		Head:    checkin.SignHead(k.key, k.device, last, k.hashes[last]),
		Sent:    sent,
		Records: append([][]byte(nil), k.recs[first-1:last]...),
	}
}

func encode(t testing.TB, b *wire.Batch) []byte {
	t.Helper()
	data, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// msg is a batch ready for Handle or for publishing.
func (k *fakeKiosk) msg(first, last uint64) (subject string, data []byte) {
	return wire.CheckInSubject(k.venue, k.device), encode(k.t, k.batch(first, last, sentStamp()))
}

// faultStore fails Ingest on demand: before writing (failed, not
// persisted) or after writing (failed but persisted).
type faultStore struct {
	store.Store
	failures  atomic.Int64 // Ingests still to fail; negative: all
	persisted bool         // write, then report failure
	calls     atomic.Int64
}

var errDisk = errors.New("injected disk error")

func (s *faultStore) Ingest(ctx context.Context, b store.Batch) (int, error) {
	s.calls.Add(1)
	if n := s.failures.Load(); n == 0 || n > 0 && !s.failures.CompareAndSwap(n, n-1) {
		return s.Store.Ingest(ctx, b)
	}
	if s.persisted {
		if _, err := s.Store.Ingest(ctx, b); err != nil {
			return 0, err
		}
	}
	return 0, errDisk
}

// storedSeqs returns a device's stored sequences.
func storedSeqs(t testing.TB, s store.Store, device string) []uint64 {
	t.Helper()
	var out []uint64
	if err := s.CheckIns(context.Background(), device, 0, func(c store.CheckIn) bool {
		out = append(out, c.Seq)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func seqRange(first, last uint64) []uint64 {
	var out []uint64
	for s := first; s <= last; s++ {
		out = append(out, s)
	}
	return out
}
