package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// backend is a real store for tests that run on both.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

var backends = []backend{
	{"bolt", func(t *testing.T) store.Store {
		st, err := boltstore.Open(filepath.Join(t.TempDir(), "central.db"), &boltstore.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) store.Store {
		st, err := pgstore.Open(context.Background(), pgtest.NewDatabase(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// central is an Ingester with day keys over a real store, its log kept.
type central struct {
	st      store.Store
	keys    *province.Keys
	days    *daykeys.Keys
	in      *Ingester
	metrics *Metrics
	logs    *syncBuffer
}

// newCentral returns a central whose day keys start 10 days before now;
// mod may change the Ingester's configuration.
func newCentral(t *testing.T, st store.Store, now time.Time, mod func(*Config)) *central {
	t.Helper()
	days, err := daykeys.Open(filepath.Join(t.TempDir(), "daykeys"), bytes.Repeat([]byte{7}, 32), daykeys.DayOf(now)-10)
	if err != nil {
		t.Fatal(err)
	}
	c := &central{st: st, keys: newKeys(t, "jeju"), days: days, metrics: new(Metrics), logs: new(syncBuffer)}
	cfg := Config{Store: st, SealPub: c.keys.SealingPublicKey(), SealPriv: c.keys.SealingPrivateKey(), DayKeys: days,
		Log: slog.New(slog.NewJSONHandler(c.logs, nil)), Now: func() time.Time { return now }, Metrics: c.metrics}
	if mod != nil {
		mod(&cfg)
	}
	if c.in, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return c
}

// enroll adds a venue (if new) and a device of it, and returns its kiosk.
func (c *central) enroll(t *testing.T, device, venue string) *fakeKiosk {
	t.Helper()
	ctx := context.Background()
	if err := c.st.AddVenue(ctx, store.Venue{ID: venue, Name: venue, Created: truth}); err != nil && !errors.Is(err, store.ErrExists) {
		t.Fatal(err)
	}
	key := deviceKey(device)
	if err := c.st.AddDevice(ctx, store.Device{ID: device, Venue: venue, PublicKey: key.Public().(ed25519.PublicKey), Enrolled: truth}); err != nil {
		t.Fatal(err)
	}
	return newKiosk(t, c.keys, device, venue, key)
}

func quarantined(t *testing.T, st store.Store, device string) []store.Quarantine {
	t.Helper()
	qs, err := st.Quarantined(context.Background(), device)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// Ensure that a quarantine entry is attributed to the device whose subject
// the message came on — the only device NATS lets publish there — never to
// the device its payload names, and that a payload naming another device
// is quarantined as wrong-subject.
func TestHandle_SubjectAttribution(t *testing.T) {
	tests := []struct {
		name    string
		msg     func(c *central, k1 *fakeKiosk) (subject string, data []byte)
		device  string // whose entry it is
		reason  string
		details []string
	}{
		{"another enrolled device's batch", func(c *central, k1 *fakeKiosk) (string, []byte) {
			_, d := k1.msg(1, 2)
			return wire.CheckInSubject("v-1", "k-2"), d
		}, "k-2", ReasonWrongSubject, []string{"batch of k-1", "subject of k-2"}},
		{"a batch naming a device never enrolled", func(c *central, k1 *fakeKiosk) (string, []byte) {
			_, d := newKiosk(t, c.keys, "k-9", "v-1", deviceKey("k-9")).addN(2).msg(1, 2)
			return wire.CheckInSubject("v-1", "k-2"), d
		}, "k-2", ReasonWrongSubject, []string{"batch of k-9"}},
		{"a batch of the device on another venue's subject", func(c *central, k1 *fakeKiosk) (string, []byte) {
			_, d := k1.msg(1, 2)
			return wire.CheckInSubject("v-2", "k-1"), d
		}, "k-1", ReasonWrongSubject, []string{"venue v-1", "venue v-2"}},
		{"a batch on a subject of no device", func(c *central, k1 *fakeKiosk) (string, []byte) {
			_, d := k1.msg(1, 2)
			return wire.CheckInsPrefix + ".v-1", d
		}, "", ReasonWrongSubject, []string{"names device k-1"}},
		{"a malformed message", func(c *central, k1 *fakeKiosk) (string, []byte) {
			_, d := k1.msg(1, 2)
			return wire.CheckInSubject("v-1", "k-2"), d[:len(d)-3]
		}, "k-2", ReasonMalformed, nil},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := context.Background()
					c := newCentral(t, be.open(t), truth, nil)
					k1 := c.enroll(t, "k-1", "v-1").addN(2)
					c.enroll(t, "k-2", "v-1")
					subject, data := tt.msg(c, k1)
					res, err := c.in.Handle(ctx, subject, data, truth)
					if err != nil || res.Quarantined != tt.reason || res.Device != tt.device {
						t.Fatalf("Handle = %+v, %v; want %s under %q", res, err, tt.reason, tt.device)
					}
					all := quarantined(t, c.st, "")
					if len(all) != 1 {
						t.Fatalf("%d entries, want 1", len(all))
					}
					q := all[0]
					if q.Device != tt.device || q.Subject != subject || q.Reason != tt.reason || q.Sum != sha256.Sum256(data) || q.Size != len(data) {
						t.Fatalf("entry %+v; want device %q, subject %s, reason %s and the message's hash", q, tt.device, subject, tt.reason)
					}
					for _, d := range tt.details {
						if !strings.Contains(q.Detail, d) {
							t.Errorf("detail %q lacks %q", q.Detail, d)
						}
					}
					for _, dev := range []string{"k-1", "k-2"} {
						want := uint64(0)
						if dev == tt.device {
							want = 1
						}
						if st, err := c.st.State(ctx, dev); err != nil || st.Quarantined != want {
							t.Fatalf("state of %s counts %d quarantined (%v), want %d", dev, st.Quarantined, err, want)
						}
					}
					if got, err := OpenQuarantine(c.days, q); err != nil || !bytes.Equal(got, data) {
						t.Fatalf("OpenQuarantine = %d bytes, %v; want the message", len(got), err)
					}
				})
			}
		})
	}
}

// Ensure that a quarantined payload is sealed under the key of the
// earliest of the day it was received and the days of its records with a
// synced clock (so that it never outlives a record it holds), opens with
// that key only, and is not kept — only its hash — when that day's key is
// already destroyed.
func TestQuarantine_PayloadDay(t *testing.T) {
	received := truth
	today := daykeys.DayOf(received)
	tests := []struct {
		name    string
		rec     checkin.Record // the first record of the batch
		wantDay daykeys.Day
		kept    bool
	}{
		{"records of the day received", checkin.Record{}, today, true},
		{"a synced record three days earlier", checkin.Record{Wall: truth.AddDate(0, 0, -3)}, today - 3, true},
		{"an unsynced record of 1970", checkin.Record{Wall: time.Unix(60, 0), Quality: checkin.Unsynced}, today, true},
		{"a synced record of a destroyed day", checkin.Record{Wall: truth.AddDate(0, 0, -20)}, today, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCentral(t, backends[0].open(t), truth, nil)
			c.enroll(t, "k-1", "v-1")
			forged := newKiosk(t, c.keys, "k-1", "v-1", deviceKey("not k-1")) // a head k-1 did not sign
			forged.add(tt.rec)
			forged.addN(1)
			s, d := forged.msg(1, 2)
			res, err := c.in.Handle(context.Background(), s, d, received)
			if err != nil || res.Quarantined != ReasonBadSignature {
				t.Fatalf("Handle = %+v, %v", res, err)
			}
			q := quarantined(t, c.st, "k-1")[0]
			if got := daykeys.DayOf(q.Day); got != tt.wantDay {
				t.Fatalf("entry of day %s, want %s", got, tt.wantDay)
			}
			if q.Sum != sha256.Sum256(d) || q.Size != len(d) || q.First != 1 || q.Last != 2 {
				t.Fatalf("entry %+v: not the message's hash, size and range", q)
			}
			for _, r := range forged.recs {
				if bytes.Contains(q.Payload, r) {
					t.Fatal("a record is in the entry as received: the province's key opens it")
				}
			}
			got, err := OpenQuarantine(c.days, q)
			if !tt.kept {
				if len(q.Payload) != 0 || err == nil || !strings.Contains(q.Detail, "payload not kept") {
					t.Fatalf("payload of %d bytes kept for a destroyed day (%q), OpenQuarantine: %v", len(q.Payload), q.Detail, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, d) {
				t.Fatalf("OpenQuarantine = %d bytes, %v", len(got), err)
			}
			if err := c.days.DestroyThrough(tt.wantDay); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenQuarantine(c.days, q); !errors.Is(err, daykeys.ErrDestroyed) {
				t.Fatalf("OpenQuarantine after the day's key was destroyed: %v", err)
			}
		})
	}
}

// Ensure that a device's quarantine is held to its quota: entries keep
// their payload up to the bytes quota and only their hash past it; at the
// entries quota one summary entry, without payload, and nothing after;
// every hit is an ERROR line and a metric; the entries dropped with their
// day free the quota.
func TestQuarantine_Quota(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			var c *central
			probe := newKiosk(t, newKeys(t, "jeju"), "k-1", "v-1", deviceKey("not k-1")).addN(2)
			_, d := probe.msg(1, 2)
			sealedLen := int64(len(d) + 40) // XChaCha20-Poly1305: 24-byte nonce, 16-byte tag
			c = newCentral(t, be.open(t), truth, func(cfg *Config) {
				cfg.QuarantineMaxEntries = 3
				cfg.QuarantineMaxBytes = 2*sealedLen + sealedLen/2
			})
			c.enroll(t, "k-1", "v-1")
			forged := newKiosk(t, c.keys, "k-1", "v-1", deviceKey("not k-1")).addN(2)
			send := func() Result {
				t.Helper()
				s, d := forged.msg(1, 2)
				res, err := c.in.Handle(ctx, s, d, truth)
				if err != nil || res.Quarantined != ReasonBadSignature {
					t.Fatalf("Handle = %+v, %v", res, err)
				}
				return res
			}
			for range 5 {
				send()
			}
			type kept struct {
				reason  string
				payload bool
			}
			var got []kept
			for _, q := range quarantined(t, c.st, "k-1") {
				got = append(got, kept{q.Reason, len(q.Payload) > 0})
			}
			want := []kept{{ReasonBadSignature, true}, {ReasonBadSignature, true}, {ReasonBadSignature, false}, {ReasonQuotaExceeded, false}}
			if len(got) != len(want) {
				t.Fatalf("entries %v, want %v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("entries %v, want %v", got, want)
				}
			}
			if n := c.metrics.QuotaHits.Load(); n != 3 {
				t.Fatalf("QuotaHits = %d, want 3", n)
			}
			if n := c.metrics.Quarantined(ReasonQuotaExceeded); n != 1 {
				t.Fatalf("quota-exceeded counted %d times, want 1", n)
			}
			if n := strings.Count(c.logs.String(), `"level":"ERROR","msg":"ingest: device over its quarantine quota"`); n != 3 {
				t.Fatalf("%d quota ERROR lines, want 3:\n%s", n, c.logs)
			}
			var prom strings.Builder
			c.metrics.WritePrometheus(&prom)
			if !strings.Contains(prom.String(), "\nanshim_ingest_quarantine_quota_total 3\n") {
				t.Fatalf("metrics lack the quota counter:\n%s", prom.String())
			}
			if n, err := c.st.DropQuarantine(ctx, truth); err != nil || n != 4 {
				t.Fatalf("DropQuarantine = %d, %v", n, err)
			}
			if res := send(); res.QuarantineID == 0 {
				t.Fatal("no entry after the quota was freed")
			}
			if qs := quarantined(t, c.st, "k-1"); len(qs) != 1 || len(qs[0].Payload) == 0 {
				t.Fatalf("after the drop: %d entries", len(qs))
			}
		})
	}
}

// Ensure, through a real embedded NATS server on both backends, that
// after today is dropped from the store out of band (the store's own
// DropDay, its key still alive), a later batch of today's records is
// neither stored nor taken for duplicates: it is refused loudly — a
// day-destroyed quarantine entry keeping its hash only, an ERROR line, the
// metrics — and acked; while a redelivery of records stored under an
// earlier leaf before the drop still counts as duplicates.
func TestRun_DayDroppedOutOfBand(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			js := startNATS(t)
			now := time.Now()
			today := daykeys.DayOf(now)
			c := newCentral(t, be.open(t), now, func(cfg *Config) {
				cfg.JS, cfg.Now = js, time.Now
			})
			k := c.enroll(t, "k-1", "v-1")
			for i := range 4 { // noon KST today and after: a synced clock keeps its time
				k.add(checkin.Record{Wall: today.Start().Add(12*time.Hour + time.Duration(i)*time.Minute)})
			}
			runIngest(t, c.in)
			publish(t, js, k, 1, 2)
			eventually(t, "records 1-2 stored", func() bool { return len(storedSeqs(t, c.st, "k-1")) == 2 })

			if n, err := c.st.DropDay(ctx, now); err != nil || n != 2 {
				t.Fatalf("DropDay(today) = %d, %v", n, err)
			}
			publish(t, js, k, 3, 4)
			eventually(t, "batch 3-4 handled and acked", func() bool { return c.metrics.Batches.Load() == 2 && drained(t, js) })
			if d, e := c.metrics.Duplicates.Load(), c.metrics.Expired.Load(); d != 0 || e != 2 {
				t.Fatalf("metrics: %d duplicates, %d expired; want 0 and 2", d, e)
			}
			if n := c.metrics.Quarantined(ReasonDayDestroyed); n != 1 {
				t.Fatalf("day-destroyed counted %d times, want 1", n)
			}
			qs := quarantined(t, c.st, "k-1")
			_, data := k.msg(3, 4)
			if len(qs) != 1 || qs[0].Reason != ReasonDayDestroyed || len(qs[0].Payload) != 0 || qs[0].Sum != sha256.Sum256(data) ||
				qs[0].First != 3 || qs[0].Last != 4 || !strings.Contains(qs[0].Detail, "records 3-4 of days "+today.String()) {
				t.Fatalf("quarantine %+v; want one day-destroyed entry of 3-4 with the batch's hash and no payload", qs)
			}
			logs := c.logs.String()
			if !strings.Contains(logs, `"level":"ERROR","msg":"ingest: records of a destroyed or dropped day refused`) || !strings.Contains(logs, `"reason":"day-destroyed"`) {
				t.Fatalf("no ERROR line for the refused records:\n%s", logs)
			}
			if got := storedSeqs(t, c.st, "k-1"); len(got) != 0 {
				t.Fatalf("stored %v of a dropped day", got)
			}
			if st, err := c.st.State(ctx, "k-1"); err != nil || st.LastSeq != 4 {
				t.Fatalf("state %+v, %v; want last seq 4", st, err)
			}

			// Records 1-2 again (a kiosk that lost the PubAck): they were
			// stored under a leaf before the drop, so they are duplicates.
			if _, err := js.Publish(ctx, wire.CheckInSubject("v-1", "k-1"), encode(t, k.batch(1, 2, sentStamp()))); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the redelivery handled", func() bool { return c.metrics.Batches.Load() == 3 && drained(t, js) })
			if d := c.metrics.Duplicates.Load(); d != 2 {
				t.Fatalf("redelivery: %d duplicates, want 2", d)
			}
			if qs := quarantined(t, c.st, "k-1"); len(qs) != 1 {
				t.Fatalf("redelivery quarantined: %d entries", len(qs))
			}
		})
	}
}
