package kiosk

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// downSyncEnv is a kiosk whose verifier and keys follow a downSync.
func downSyncEnv(t *testing.T, localDebounce bool) (*env, func() *downSync) {
	e := newEnv(t)
	attach := func() *downSync {
		ds := newDownSync(e.outbox, e.keys.Bundle(), e.rev, true, localDebounce, slog.New(slog.DiscardHandler))
		e.kiosk.SetVerifier(ds.verifier())
		e.kiosk.SetSealTo(ds.sealTo())
		ds.attach(e.kiosk)
		return ds
	}
	return e, attach
}

func change(key, value string) uplink.Change {
	if value == "" {
		return uplink.Change{Key: key}
	}
	return uplink.Change{Key: key, Value: []byte(value)}
}

func mustApply(t *testing.T, ds *downSync, bucket string, snapshot bool, changes ...uplink.Change) {
	t.Helper()
	if err := ds.Apply(bucket, changes, snapshot); err != nil {
		t.Fatal(err)
	}
}

// Ensure that revocations apply at once, that a snapshot replaces what was
// known (a revocation gone centrally is lifted), that malformed ids are
// ignored, and that the cache brings the same state back after a restart.
func TestDownSync_Revocations(t *testing.T) {
	e, attach := downSyncEnv(t, false)
	ds := attach()
	textA, a := e.issue()
	textB, b := e.issue()
	mustApply(t, ds, wire.BucketRevoked, false, change(a.RevocationID(), "1"), change(b.RevocationID(), "1"), change("not-an-id", "1"))
	for _, text := range []string{textA, textB} {
		if out := e.scan(text); out.Reason != pass.ReasonRevoked {
			t.Fatalf("revoked pass: %+v", out)
		}
	}
	mustApply(t, ds, wire.BucketRevoked, true, change(b.RevocationID(), "1"))
	if out := e.scan(textA); out.Result != feedback.Accepted {
		t.Errorf("a pass no longer in the snapshot: %+v", out)
	}
	e.reopen()
	ds = attach()
	if out := e.scan(textB); out.Reason != pass.ReasonRevoked {
		t.Errorf("after a restart, from the cache: %+v", out)
	}
	if n := ds.kvRev.Len(); n != 1 {
		t.Errorf("%d revocations cached, want 1", n)
	}
	mustApply(t, ds, wire.BucketRevoked, false, change(b.RevocationID(), ""))
	if out := e.scan(textB); out.Result != feedback.Accepted {
		t.Errorf("an un-revoked pass: %+v", out)
	}
}

// Ensure that the central's pass keys replace the bundle's when it lists
// any valid one, that a key whose id does not match is ignored, and that
// with none left the bundle's keys verify again.
func TestDownSync_PassKeys(t *testing.T) {
	e, attach := downSyncEnv(t, false)
	ds := attach()
	keys2, err := province.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	k2 := keys2.PassKeys()[0]
	id2, val2 := fmt.Sprintf("%08x", k2.ID), base64.StdEncoding.EncodeToString(k2.Key)
	text1, _ := e.issue()
	mustApply(t, ds, wire.BucketPassKeys, true, change("00000000", signed(t, e.keys, province.KindPassKey, "00000000", val2, e.clock.Now().Wall))) // id does not match
	if out := e.scan(text1); out.Result != feedback.Accepted {
		t.Fatalf("with only a bad key listed, a bundle pass: %+v", out)
	}
	mustApply(t, ds, wire.BucketPassKeys, false, change(id2, signed(t, e.keys, province.KindPassKey, id2, val2, e.clock.Now().Wall)))
	text1b, _ := e.issue()
	if out := e.scan(text1b); out.Reason != pass.ReasonUnknownKey {
		t.Errorf("a pass of a key the central does not list: %+v", out)
	}
	p2 := pass.Pass{Kind: pass.KindApp, Issued: e.clock.Now().Wall.Add(-3600e9), Expires: e.clock.Now().Wall.Add(3600e9)}
	rand.Read(p2.Pseudonym[:])
	text2, err := keys2.Signer().Issue(p2)
	if err != nil {
		t.Fatal(err)
	}
	if out := e.scan(text2); out.Result != feedback.Accepted {
		t.Errorf("a pass of the central's key: %+v", out)
	}
	mustApply(t, ds, wire.BucketPassKeys, false, change(id2, ""))
	if out := e.scan(text1b); out.Result != feedback.Accepted {
		t.Errorf("back to the bundle's keys: %+v", out)
	}
}

// Ensure that a new sealing key seals the next records, that one whose id
// does not match is ignored, and that the venue's debounce applies unless
// the configuration sets one.
func TestDownSync_SealingAndVenue(t *testing.T) {
	e, attach := downSyncEnv(t, false)
	ds := attach()
	keys2, err := province.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(map[string]string{"id": keys2.SealingKeyID(), "key": base64.StdEncoding.EncodeToString(keys2.SealingPublicKey()[:])})
	bad, _ := json.Marshal(map[string]string{"id": "00000000", "key": base64.StdEncoding.EncodeToString(keys2.SealingPublicKey()[:])})
	now := e.clock.Now().Wall
	mustApply(t, ds, wire.BucketSealing, true, change("current", signed(t, e.keys, province.KindSealingKey, "current", string(bad), now)))
	text, _ := e.issue()
	e.scan(text)
	mustApply(t, ds, wire.BucketSealing, false, change("current", signed(t, e.keys, province.KindSealingKey, "current", string(good), now)))
	text2, _ := e.issue()
	e.scan(text2)
	recs, _ := func() ([]*checkin.Record, error) {
		var out []*checkin.Record
		err := e.outbox.Scan(0, func(_ uint64, b []byte) bool { r, _ := checkin.Decode(b); out = append(out, r); return true })
		return out, err
	}()
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	if _, err := checkin.Open(recs[0].Sealed, e.keys.SealingPublicKey(), e.keys.SealingPrivateKey()); err != nil {
		t.Errorf("record 1 (bad key ignored) not sealed to the bundle's key: %v", err)
	}
	if _, err := checkin.Open(recs[1].Sealed, keys2.SealingPublicKey(), keys2.SealingPrivateKey()); err != nil {
		t.Errorf("record 2 not sealed to the new key: %v", err)
	}

	mustApply(t, ds, wire.BucketVenues, false, change(e.dev.Venue, `{"name":"Cafe","debounce":"-1s"}`), change("v-other", `{"debounce":"1h"}`))
	if out := e.scan(text2); out.Result != feedback.Accepted {
		t.Errorf("debounce off by the venue's settings, a second scan: %+v", out)
	}
	mustApply(t, ds, wire.BucketVenues, true)
	if out := e.scan(text2); out.Result != feedback.Duplicate {
		t.Errorf("venue settings gone, the default debounce: %+v", out)
	}

	e2, attach2 := downSyncEnv(t, true) // the configuration sets the debounce
	ds2 := attach2()
	mustApply(t, ds2, wire.BucketVenues, false, change(e2.dev.Venue, `{"debounce":"-1s"}`))
	text3, _ := e2.issue()
	e2.scan(text3)
	if out := e2.scan(text3); out.Result != feedback.Duplicate {
		t.Errorf("the configured debounce gave way to the venue's: %+v", out)
	}
}
