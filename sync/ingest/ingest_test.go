package ingest

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

// step is one message given to Handle and what it should do.
type step struct {
	subject string
	data    []byte
	// want
	stored, dups int
	quarantined  string // reason, or ""
	brk          string // break reason, or ""
}

// Ensure that Handle stores, skips, flags and quarantines batches as
// docs/sync.md lists, with real keys, signatures and sealed parts.
func TestHandle(t *testing.T) {
	const dev, venue = "k-1", "v-1"
	tests := []struct {
		name string
		// steps builds the messages, given the enrolled kiosk.
		steps func(t *testing.T, f *fixture, k *fakeKiosk) []step
		// what the store holds at the end
		wantSeqs        []uint64
		wantLast        uint64
		wantQuarantined []string // reasons, in order
		wantFlagged     []uint64 // seqs with FlagAfterBreak
	}{
		{
			name: "good batch",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				s, d := k.addN(5).msg(1, 5)
				return []step{{subject: s, data: d, stored: 5}}
			},
			wantSeqs: seqRange(1, 5), wantLast: 5,
		},
		{
			name: "two batches in a row",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				k.addN(9)
				s1, d1 := k.msg(1, 4)
				s2, d2 := k.msg(5, 9)
				return []step{{subject: s1, data: d1, stored: 4}, {subject: s2, data: d2, stored: 5}}
			},
			wantSeqs: seqRange(1, 9), wantLast: 9,
		},
		{
			name: "duplicate batch",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				s, d := k.addN(5).msg(1, 5)
				return []step{{subject: s, data: d, stored: 5}, {subject: s, data: d, dups: 5}, {subject: s, data: d, dups: 5}}
			},
			wantSeqs: seqRange(1, 5), wantLast: 5,
		},
		{
			name: "overlapping batch",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				k.addN(8)
				s1, d1 := k.msg(1, 5)
				s2, d2 := k.msg(3, 8)
				s3, d3 := k.msg(2, 4)
				return []step{{subject: s1, data: d1, stored: 5}, {subject: s2, data: d2, stored: 3, dups: 3}, {subject: s3, data: d3, dups: 3}}
			},
			wantSeqs: seqRange(1, 8), wantLast: 8,
		},
		{
			name: "gap, then the missing batch fills it",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				k.addN(8)
				s1, d1 := k.msg(1, 3)
				s2, d2 := k.msg(6, 8)
				s3, d3 := k.msg(4, 5)
				return []step{
					{subject: s1, data: d1, stored: 3},
					{subject: s2, data: d2, stored: 3, brk: ReasonSequenceGap},
					{subject: s2, data: d2, dups: 3}, // redelivered: no second break
					{subject: s3, data: d3, stored: 2},
				}
			},
			wantSeqs: seqRange(1, 8), wantLast: 8,
			wantQuarantined: []string{ReasonSequenceGap},
			wantFlagged:     []uint64{6, 7, 8},
		},
		{
			name: "first batch does not start at 1",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				s, d := k.addN(5).msg(3, 5)
				return []step{{subject: s, data: d, stored: 3, brk: ReasonSequenceGap}}
			},
			wantSeqs: seqRange(3, 5), wantLast: 5,
			wantQuarantined: []string{ReasonSequenceGap},
			wantFlagged:     []uint64{3, 4, 5},
		},
		{
			name: "chain break",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				k.addN(3)
				s1, d1 := k.msg(1, 3)
				// The kiosk's record 3 as the central has it differs from
				// the one its later chain continues from.
				other := k.fork(3)
				other.add(checkin.Record{Kind: checkin.Exit})
				other.addN(3)
				s2, d2 := other.msg(4, 6)
				return []step{{subject: s1, data: d1, stored: 3}, {subject: s2, data: d2, stored: 3, brk: ReasonChainBreak}}
			},
			wantSeqs: seqRange(1, 6), wantLast: 6,
			wantQuarantined: []string{ReasonChainBreak},
			wantFlagged:     []uint64{4, 5, 6},
		},
		{
			name: "first batch not from genesis",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				k.addN(3)
				b := k.batch(1, 3, sentStamp())
				b.Prev = checkin.Genesis("k-other")
				// Re-chain and re-sign so that only the start is wrong.
				h := b.Prev
				for _, r := range b.Records {
					h = checkin.Next(h, r)
				}
				b.Head = checkin.SignHead(k.key, k.device, 3, h)
				return []step{{subject: wire.CheckInSubject(venue, dev), data: encode(t, b), stored: 3, brk: ReasonChainBreak}}
			},
			wantSeqs: seqRange(1, 3), wantLast: 3,
			wantQuarantined: []string{ReasonChainBreak},
			wantFlagged:     []uint64{1, 2, 3},
		},
		{
			name: "forged head",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				k.addN(4)
				b := k.batch(1, 4, sentStamp())
				b.Head = checkin.SignHead(deviceKey("k-thief"), dev, 4, k.hashes[4])
				return []step{{subject: wire.CheckInSubject(venue, dev), data: encode(t, b), quarantined: ReasonBadSignature}}
			},
			wantQuarantined: []string{ReasonBadSignature},
		},
		{
			name: "edited record",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				k.addN(4)
				b := k.batch(1, 4, sentStamp())
				r, err := checkin.Decode(b.Records[2])
				if err != nil {
					t.Fatal(err)
				}
				r.Wall = r.Wall.Add(-time.Hour) // an alibi
				if b.Records[2], err = r.MarshalBinary(); err != nil {
					t.Fatal(err)
				}
				return []step{{subject: wire.CheckInSubject(venue, dev), data: encode(t, b), quarantined: ReasonBrokenChain}}
			},
			wantQuarantined: []string{ReasonBrokenChain},
		},
		{
			name: "records conflict with stored ones",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				k.addN(5)
				s1, d1 := k.msg(1, 5)
				restored := k.fork(4) // restored from a backup taken after record 3
				restored.add(checkin.Record{Kind: checkin.Exit})
				restored.addN(3)
				s2, d2 := restored.msg(4, 7)
				return []step{{subject: s1, data: d1, stored: 5}, {subject: s2, data: d2, quarantined: ReasonConflict}}
			},
			wantSeqs: seqRange(1, 5), wantLast: 5,
			wantQuarantined: []string{ReasonConflict},
		},
		{
			name: "unknown device",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				stranger := newKiosk(t, f.keys, "k-9", venue, deviceKey("k-9")).addN(2)
				s, d := stranger.msg(1, 2)
				return []step{{subject: s, data: d, quarantined: ReasonUnknownDevice}}
			},
			wantQuarantined: nil, // kept, but not under k-1
		},
		{
			name: "wrong subject: another device's",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				f.enroll(t, "k-2", venue)
				_, d := k.addN(2).msg(1, 2)
				return []step{{subject: wire.CheckInSubject(venue, "k-2"), data: d, quarantined: ReasonWrongSubject}}
			},
			wantQuarantined: nil, // under k-2, whose subject it came on: TestHandle_SubjectAttribution

		},
		{
			name: "wrong subject: another venue",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				_, d := k.addN(2).msg(1, 2)
				return []step{{subject: wire.CheckInSubject("v-2", dev), data: d, quarantined: ReasonWrongSubject}}
			},
			wantQuarantined: []string{ReasonWrongSubject},
		},
		{
			name: "wrong subject: not a batch subject",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				_, d := k.addN(2).msg(1, 2)
				return []step{{subject: "anshim.checkins." + venue + "." + dev + ".x", data: d, quarantined: ReasonWrongSubject}}
			},
			wantQuarantined: nil, // under no device: the subject names none

		},
		{
			name: "device not enrolled at the batch's venue",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				moved := newKiosk(t, f.keys, dev, "v-2", k.key).addN(2)
				s, d := moved.msg(1, 2)
				return []step{{subject: s, data: d, quarantined: ReasonWrongSubject}}
			},
			wantQuarantined: []string{ReasonWrongSubject},
		},
		{
			name: "record of another venue",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				k.add(checkin.Record{})
				k.add(checkin.Record{Venue: "v-2"})
				s, d := k.msg(1, 2)
				return []step{{subject: s, data: d, quarantined: ReasonWrongSubject}}
			},
			wantQuarantined: []string{ReasonWrongSubject},
		},
		{
			name: "malformed payloads",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				s, d := k.addN(3).msg(1, 3)
				return []step{
					{subject: s, data: d[:len(d)-1], quarantined: ReasonMalformed},
					{subject: s, data: d[:40], quarantined: ReasonMalformed},
					{subject: s, data: append(slices.Clone(d), 0), quarantined: ReasonMalformed},
					{subject: s, data: []byte("ANB2" + string(d[4:])), quarantined: ReasonMalformed},
					{subject: s, data: nil, quarantined: ReasonMalformed},
					{subject: s, data: []byte(`{"json":"no"}`), quarantined: ReasonMalformed},
				}
			},
			wantQuarantined: []string{ReasonMalformed, ReasonMalformed, ReasonMalformed, ReasonMalformed, ReasonMalformed, ReasonMalformed},
		},
		{
			name: "unopenable sealed part",
			steps: func(t *testing.T, f *fixture, k *fakeKiosk) []step {
				other := checkin.NewSealer(newKeys(t, "seoul").SealingPublicKey(), 0, nil)
				defer other.Close()
				sealed, err := other.Seal(checkin.Personal{PassKind: 1})
				if err != nil {
					t.Fatal(err)
				}
				k.addN(2)
				k.add(checkin.Record{Sealed: sealed})
				k.addN(1)
				garbage := bytes.Repeat([]byte{1}, checkin.SealedLen)
				k.add(checkin.Record{Sealed: garbage})
				s1, d1 := k.msg(1, 4)
				s2, d2 := k.msg(5, 5)
				return []step{{subject: s1, data: d1, quarantined: ReasonCannotOpen}, {subject: s2, data: d2, quarantined: ReasonCannotOpen}}
			},
			wantQuarantined: []string{ReasonCannotOpen, ReasonCannotOpen},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			k := newKiosk(t, f.keys, dev, venue, f.enroll(t, dev, venue))
			ctx := context.Background()
			var wantBatches, wantStored, wantDups, wantBreaks uint64
			for i, s := range tt.steps(t, f, k) {
				res, err := f.in.Handle(ctx, s.subject, s.data, truth.Add(time.Hour))
				if err != nil {
					t.Fatalf("step %d: Handle: %v", i, err)
				}
				if res.Stored != s.stored || res.Duplicates != s.dups || res.Quarantined != s.quarantined || res.Break != s.brk {
					t.Fatalf("step %d: Handle = stored %d dups %d quarantined %q break %q (%s); want %d %d %q %q",
						i, res.Stored, res.Duplicates, res.Quarantined, res.Break, res.Detail, s.stored, s.dups, s.quarantined, s.brk)
				}
				if (res.Quarantined != "") != (res.QuarantineID != 0) {
					t.Fatalf("step %d: quarantined %q with entry %d", i, res.Quarantined, res.QuarantineID)
				}
				wantBatches++
				wantStored += uint64(s.stored)
				wantDups += uint64(s.dups)
				if s.brk != "" {
					wantBreaks++
				}
			}

			if got := storedSeqs(t, f.store, dev); !slices.Equal(got, tt.wantSeqs) {
				t.Fatalf("stored seqs %v, want %v", got, tt.wantSeqs)
			}
			st, err := f.store.State(ctx, dev)
			if err != nil {
				t.Fatal(err)
			}
			if st.LastSeq != tt.wantLast || st.Records != uint64(len(tt.wantSeqs)) || st.Breaks != wantBreaks {
				t.Fatalf("state %+v, want last %d, %d records, %d breaks", st, tt.wantLast, len(tt.wantSeqs), wantBreaks)
			}
			if tt.wantFlagged == nil && tt.wantLast > 0 && st.LastHash != k.hashes[tt.wantLast] {
				t.Fatalf("state's last hash is not the kiosk's chain hash at %d", tt.wantLast)
			}
			qs, err := f.store.Quarantined(ctx, dev)
			if err != nil {
				t.Fatal(err)
			}
			var reasons []string
			for _, q := range qs {
				reasons = append(reasons, q.Reason)
				if len(q.Payload) == 0 && q.Reason != ReasonMalformed {
					t.Errorf("quarantine entry %d (%s) without its payload", q.ID, q.Reason)
				}
			}
			if !slices.Equal(reasons, tt.wantQuarantined) {
				t.Fatalf("quarantined %v, want %v", reasons, tt.wantQuarantined)
			}
			if st.Quarantined != uint64(len(tt.wantQuarantined)) {
				t.Fatalf("state counts %d quarantined, want %d", st.Quarantined, len(tt.wantQuarantined))
			}
			var flagged []uint64
			f.store.CheckIns(ctx, dev, 0, func(c store.CheckIn) bool {
				if c.Flags&store.FlagAfterBreak != 0 {
					flagged = append(flagged, c.Seq)
				}
				return true
			})
			if !slices.Equal(flagged, tt.wantFlagged) {
				t.Fatalf("flagged after a break: %v, want %v", flagged, tt.wantFlagged)
			}

			m := f.metrics
			if m.Batches.Load() != wantBatches || m.Stored.Load() != wantStored || m.Duplicates.Load() != wantDups || m.Breaks.Load() != wantBreaks {
				t.Fatalf("metrics batches %d stored %d dups %d breaks %d; want %d %d %d %d",
					m.Batches.Load(), m.Stored.Load(), m.Duplicates.Load(), m.Breaks.Load(), wantBatches, wantStored, wantDups, wantBreaks)
			}
			for _, r := range tt.wantQuarantined {
				if m.Quarantined(r) == 0 {
					t.Errorf("metric for quarantine reason %s is 0", r)
				}
			}

			// One error line per quarantine entry and break, never a pseudonym.
			logs := f.logs.String()
			if n, want := strings.Count(logs, "level=ERROR"), len(tt.wantQuarantined); n < want {
				t.Errorf("%d error log lines for %d quarantine entries:\n%s", n, want, logs)
			}
			for _, p := range k.pseudonyms {
				if strings.Contains(logs, hex.EncodeToString(p[:])) || strings.Contains(logs, string(p[:8])) {
					t.Fatalf("logs contain a pseudonym:\n%s", logs)
				}
			}
		})
	}
}

// Ensure that a stored check-in keeps the record as the kiosk sealed it,
// with its chain hash and times.
func TestHandle_StoredFields(t *testing.T) {
	f := newFixture(t, nil, nil)
	k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1"))
	k.add(checkin.Record{Kind: checkin.Exit, Quality: checkin.RTC})
	s, d := k.msg(1, 1)
	received := truth.Add(time.Hour)
	if _, err := f.in.Handle(context.Background(), s, d, received); err != nil {
		t.Fatal(err)
	}
	want, err := checkin.Decode(k.recs[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []store.CheckIn
	f.store.CheckIns(context.Background(), "k-1", 0, func(c store.CheckIn) bool { got = append(got, c); return true })
	if len(got) != 1 {
		t.Fatalf("%d check-ins stored", len(got))
	}
	c := got[0]
	if c.Venue != "v-1" || c.Kind != checkin.Exit || c.Quality != checkin.RTC || !c.RawWall.Equal(want.Wall) || !c.Time.Equal(want.Wall) ||
		c.Boot != want.Boot || c.Mono != want.Mono || !bytes.Equal(c.Sealed, want.Sealed) || c.Hash != k.hashes[1] ||
		!c.Received.Equal(received) || c.Flags != 0 {
		t.Fatalf("stored %+v, want the record %+v", c, want)
	}
}

// Ensure that a store error is returned (for a redelivery), counted
// nowhere, and leaves nothing behind; and that a batch whose write
// succeeded but was reported failed is a duplicate on redelivery.
func TestHandle_StoreError(t *testing.T) {
	for _, persisted := range []bool{false, true} {
		name := map[bool]string{false: "failed and not persisted", true: "failed but persisted"}[persisted]
		t.Run(name, func(t *testing.T) {
			fs := &faultStore{persisted: persisted}
			fs.failures.Store(1)
			f := newFixture(t, func(s store.Store) store.Store { fs.Store = s; return fs }, nil)
			k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(4)
			s, d := k.msg(1, 4)
			ctx := context.Background()
			if _, err := f.in.Handle(ctx, s, d, truth); !errors.Is(err, errDisk) {
				t.Fatalf("Handle with a failing store: %v, want the store's error", err)
			}
			if f.metrics.Batches.Load() != 0 || f.metrics.Stored.Load() != 0 {
				t.Fatal("a failed batch was counted")
			}
			res, err := f.in.Handle(ctx, s, d, truth)
			if err != nil {
				t.Fatal(err)
			}
			want := Result{Device: "k-1", FirstSeq: 1, LastSeq: 4, Stored: 4}
			if persisted {
				want.Stored, want.Duplicates = 0, 4
			}
			if res != want {
				t.Fatalf("redelivery: %+v, want %+v", res, want)
			}
			if got := storedSeqs(t, f.store, "k-1"); !slices.Equal(got, seqRange(1, 4)) {
				t.Fatalf("stored %v", got)
			}
			if qs, _ := f.store.Quarantined(ctx, ""); len(qs) != 0 {
				t.Fatalf("store error made quarantine entries: %+v", qs)
			}
		})
	}
}

// Ensure that big batches open their sealed parts on several goroutines
// and still name the first record that does not open.
func TestHandle_ParallelOpen(t *testing.T) {
	f := newFixture(t, nil, func(c *Config) { c.OpenWorkers = 4 })
	k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(150)
	k.add(checkin.Record{Sealed: bytes.Repeat([]byte{2}, checkin.SealedLen)})
	k.addN(49)
	k.add(checkin.Record{Sealed: bytes.Repeat([]byte{3}, checkin.SealedLen)})
	ctx := context.Background()
	s, d := k.msg(1, 150)
	if res, err := f.in.Handle(ctx, s, d, truth); err != nil || res.Stored != 150 {
		t.Fatalf("Handle 150 = %+v, %v", res, err)
	}
	s, d = k.msg(151, 201)
	res, err := f.in.Handle(ctx, s, d, truth)
	if err != nil || res.Quarantined != ReasonCannotOpen || !strings.HasPrefix(res.Detail, "record 151:") {
		t.Fatalf("Handle with two bad sealed parts = %+v, %v", res, err)
	}
}

// Ensure that New refuses a config without a store or keys.
func TestNew_Invalid(t *testing.T) {
	keys := newKeys(t, "jeju")
	if _, err := New(Config{SealPub: keys.SealingPublicKey(), SealPriv: keys.SealingPrivateKey()}); err == nil {
		t.Error("New without a store succeeded")
	}
	f := newFixture(t, nil, nil)
	if _, err := New(Config{Store: f.store}); err == nil {
		t.Error("New without sealing keys succeeded")
	}
}
