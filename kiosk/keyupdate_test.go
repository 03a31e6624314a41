package kiosk

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// signed returns payload as a key update of kind and name signed by the
// root key of keys at issued.
func signed(t testing.TB, keys *province.Keys, kind, name, payload string, issued time.Time) string {
	t.Helper()
	s, err := keys.SignKeyUpdate(province.KeyUpdate{Kind: kind, Name: name, Issued: issued, Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	return string(province.FormatKeyUpdate(s))
}

// sealingPayload is the sealing bucket's payload for the keys' sealing key.
func sealingPayload(keys *province.Keys) string {
	b, _ := json.Marshal(map[string]string{"id": keys.SealingKeyID(), "key": base64.StdEncoding.EncodeToString(keys.SealingPublicKey()[:])})
	return string(b)
}

// sealedTo reports which of keys the last record of e is sealed to.
func lastSealedTo(t *testing.T, e *env, keys ...*province.Keys) int {
	t.Helper()
	var last []byte
	if err := e.outbox.Scan(0, func(_ uint64, b []byte) bool { last = bytes.Clone(b); return true }); err != nil {
		t.Fatal(err)
	}
	r, err := checkin.Decode(last)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if _, err := checkin.Open(r.Sealed, k.SealingPublicKey(), k.SealingPrivateKey()); err == nil {
			return i
		}
	}
	return -1
}

// Ensure that a sealing-key update is taken only when the root key of the
// kiosk's bundle signed it for the sealing bucket's "current" key, and not
// older than the key held: anything else is logged as refused, the kiosk
// keeps sealing to the key it had, and the cache keeps that key across a
// restart.
func TestDownSync_SealingKeyUpdates(t *testing.T) {
	e, _ := downSyncEnv(t, false)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	attach := func() *downSync {
		ds := newDownSync(e.outbox, e.keys.Bundle(), e.rev, true, false, log)
		e.kiosk.SetVerifier(ds.verifier())
		e.kiosk.SetSealTo(ds.sealTo())
		ds.attach(e.kiosk)
		return ds
	}
	ds := attach()
	rogue, err := province.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	next, err := province.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().Wall
	tests := []struct {
		name     string
		value    string
		snapshot bool
		want     *province.Keys // the key the next record is sealed to
		refused  bool
	}{
		{"unsigned (the old format)", sealingPayload(rogue), true, e.keys, true},
		{"signed by another root", signed(t, rogue, province.KindSealingKey, "current", sealingPayload(rogue), now), false, e.keys, true},
		{"a pass-key update moved here", signed(t, e.keys, province.KindPassKey, "current", sealingPayload(rogue), now), false, e.keys, true},
		{"signed rotation", signed(t, e.keys, province.KindSealingKey, "current", sealingPayload(next), now), false, next, false},
		{"unsigned in a snapshot keeps the rotation", sealingPayload(rogue), true, next, true},
		{"an older signed key (replay)", signed(t, e.keys, province.KindSealingKey, "current", sealingPayload(rogue), now.Add(-time.Hour)), false, next, true},
	}
	all := []*province.Keys{e.keys, next, rogue}
	for _, tt := range tests {
		logs.Reset()
		mustApply(t, ds, wire.BucketSealing, tt.snapshot, change("current", tt.value))
		text, _ := e.issue()
		e.scan(text)
		if got := lastSealedTo(t, e, all...); got < 0 || all[got] != tt.want {
			t.Errorf("%s: record sealed to key #%d, want %s", tt.name, got, tt.want.SealingKeyID())
		}
		if got := strings.Contains(logs.String(), `"level":"ERROR","msg":"down-sync: key update refused: keeping the current keys"`); got != tt.refused {
			t.Errorf("%s: refusal logged %v, want %v:\n%s", tt.name, got, tt.refused, logs.String())
		}
	}
	// After a restart, the cache gives back the signed rotation, not what
	// was refused.
	e.reopen()
	logs.Reset()
	attach()
	text, _ := e.issue()
	e.scan(text)
	if got := lastSealedTo(t, e, all...); got != 1 {
		t.Errorf("after a restart, sealed to key #%d, want the rotation (#1)", got)
	}
	if strings.Contains(logs.String(), "refused") {
		t.Errorf("the cache held a refused value:\n%s", logs.String())
	}
}

// Ensure that a kiosk whose bundle has no root key refuses every key
// update and keeps the bundle's keys.
func TestDownSync_NoRootKeyRefuses(t *testing.T) {
	e, _ := downSyncEnv(t, false)
	var logs bytes.Buffer
	b := e.keys.Bundle()
	b.RootKey = nil
	ds := newDownSync(e.outbox, b, e.rev, true, false, slog.New(slog.NewJSONHandler(&logs, nil)))
	e.kiosk.SetSealTo(ds.sealTo())
	ds.attach(e.kiosk)
	next, err := province.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, ds, wire.BucketSealing, false, change("current", signed(t, e.keys, province.KindSealingKey, "current", sealingPayload(next), e.clock.Now().Wall)))
	text, _ := e.issue()
	e.scan(text)
	if got := lastSealedTo(t, e, e.keys, next); got != 0 {
		t.Errorf("sealed to key #%d, want the bundle's (#0)", got)
	}
	if !strings.Contains(logs.String(), "has no root key") {
		t.Errorf("no hint about the missing root key:\n%s", logs.String())
	}
}
