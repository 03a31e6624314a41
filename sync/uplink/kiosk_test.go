package uplink_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/internal/atomicfile"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/feedback/feedbacktest"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// trustedClock is the system clock, NTP-synced as far as the kiosk knows,
// in one boot that started at start.
type trustedClock struct{ start time.Time }

func (c trustedClock) Now() kiosk.Stamp {
	now := time.Now()
	return kiosk.Stamp{Wall: now.UTC(), Quality: checkin.NTPSynced, Boot: [16]byte{7}, Mono: time.Hour + now.Sub(c.start)}
}

// daemon is `kiosk run` in-process with a fake scanner and indicator.
type daemon struct {
	t       *testing.T
	scans   *scannertest.Fake
	events  *feedbacktest.Recorder
	logs    *logBuffer
	stop    context.CancelFunc
	stopped chan error
}

func startDaemon(t *testing.T, k *testKiosk) *daemon {
	t.Helper()
	d := &daemon{t: t, scans: scannertest.New("test"), events: &feedbacktest.Recorder{C: make(chan feedback.Event)},
		logs: &logBuffer{}, stopped: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	d.stop = cancel
	env := kiosk.Env{
		Log: d.logs.logger(), Clock: trustedClock{start: k.born}, Indicator: d.events,
		Scanners: []scanner.Scanner{d.scans},
		Uplink: func(c *uplink.Config) {
			c.BackoffMin, c.BackoffMax, c.AckTimeout = 20*time.Millisecond, 200*time.Millisecond, 2*time.Second
		},
	}
	go func() {
		d.stopped <- kiosk.Run(ctx, kiosk.Config{Data: k.dir, StatusListen: "off", NATSInsecure: true}, env)
	}()
	select {
	case <-d.scans.Started:
	case err := <-d.stopped:
		t.Fatalf("kiosk.Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the kiosk did not start")
	}
	t.Cleanup(d.shutdown)
	return d
}

// shutdown stops the daemon and checks that it stops promptly.
func (d *daemon) shutdown() {
	if d.stop == nil {
		return
	}
	t0 := time.Now()
	d.stop()
	d.stop = nil
	select {
	case err := <-d.stopped:
		if err != nil {
			d.t.Errorf("kiosk.Run: %v", err)
		}
		if dt := time.Since(t0); dt > 3*time.Second {
			d.t.Errorf("the kiosk took %s to stop", dt)
		}
	case <-time.After(10 * time.Second):
		d.t.Error("the kiosk did not stop within 10s")
	}
}

// scan shows a code to the kiosk and returns what the visitor saw.
func (d *daemon) scan(text string) feedback.Event {
	d.t.Helper()
	select {
	case d.scans.Scans <- scanner.Scan{Text: text}:
	case <-time.After(5 * time.Second):
		d.t.Fatal("the kiosk takes no scan")
	}
	select {
	case ev := <-d.events.C:
		return ev
	case <-time.After(5 * time.Second):
		d.t.Fatal("no feedback for a scan")
	}
	return feedback.Event{}
}

// scanUntil scans text every 50ms until the outcome satisfies ok, and
// returns how long that took.
func (d *daemon) scanUntil(text string, within time.Duration, what string, ok func(feedback.Event) bool) time.Duration {
	d.t.Helper()
	t0 := time.Now()
	for {
		ev := d.scan(text)
		if ok(ev) {
			return time.Since(t0)
		}
		if time.Since(t0) > within {
			d.t.Fatalf("after %s the kiosk still answers %+v, want %s", within, ev, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func revoked(ev feedback.Event) bool {
	return ev.Result == feedback.Rejected && ev.Reason == pass.ReasonRevoked
}

func admitted(ev feedback.Event) bool {
	return ev.Result == feedback.Accepted || ev.Result == feedback.Duplicate
}

// issue makes a pass signed by signer.
func issue(t *testing.T, signer pass.Signer) (string, pass.Pass) {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	p := pass.Pass{Kind: pass.KindApp, Issued: now.Add(-time.Hour), Expires: now.Add(24 * time.Hour)}
	rand.Read(p.Pseudonym[:])
	text, err := signer.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	return text, p
}

// enrollOnline writes what `kiosk enroll` writes for a kiosk of srv.
func enrollOnline(t *testing.T, k *testKiosk, url string, seed []byte) {
	t.Helper()
	s := uplink.Settings{URLs: []string{url}, Subject: wire.CheckInSubject(k.dev.Venue, k.dev.ID), InboxPrefix: wire.InboxPrefix(k.dev.ID)}
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(filepath.Join(k.dir, kiosk.FileNATS), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(filepath.Join(k.dir, kiosk.FileNATSKey), seed, 0o600); err != nil {
		t.Fatal(err)
	}
}

// centralKV makes the down-sync buckets as the central does.
func centralKV(t *testing.T, js jetstream.JetStream) map[string]jetstream.KeyValue {
	t.Helper()
	kvs := map[string]jetstream.KeyValue{}
	for _, b := range []string{wire.BucketRevoked, wire.BucketPassKeys, wire.BucketSealing, wire.BucketVenues} {
		kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: b, History: 1, Storage: jetstream.FileStorage})
		if err != nil {
			t.Fatal(err)
		}
		kvs[b] = kv
	}
	return kvs
}

func put(t *testing.T, kv jetstream.KeyValue, key string, value []byte) {
	t.Helper()
	if _, err := kv.Put(context.Background(), key, value); err != nil {
		t.Fatal(err)
	}
}

// signed returns payload as a key update signed by the root key of keys.
func signed(t *testing.T, keys *province.Keys, kind, name string, payload []byte) []byte {
	t.Helper()
	s, err := keys.SignKeyUpdate(province.KeyUpdate{Kind: kind, Name: name, Issued: time.Now(), Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	return province.FormatKeyUpdate(s)
}

func sealingValue(t *testing.T, keys *province.Keys) []byte {
	b, _ := json.Marshal(map[string]string{"id": keys.SealingKeyID(), "key": base64.StdEncoding.EncodeToString(keys.SealingPublicKey()[:])})
	return b
}

// Ensure that an enrolled kiosk run as `kiosk run` syncs its check-ins and
// applies the down-sync buckets live — a pass revoked centrally is refused
// within 5 s and admitted again once un-revoked, new pass keys replace the
// bundle's, a new sealing key seals the next records — and that after a
// restart without the central it still refuses the revoked pass from its
// cache.
func TestKiosk_OnlineDownSync(t *testing.T) {
	adminSeed, adminPub := userKey(t)
	devSeed, devPub := userKey(t)
	k := provision(t)
	srv := startNATS(t, []*server.NkeyUser{
		{Nkey: adminPub},
		{Nkey: devPub, Permissions: devicePermissions(testVenue, k.dev.ID)},
	})
	_, js := srv.connect(adminSeed)
	stream := createStream(t, js)
	kvs := centralKV(t, js)
	put(t, kvs[wire.BucketVenues], testVenue, []byte(`{"name":"Cafe Halla"}`))
	enrollOnline(t, k, srv.URL, devSeed)

	d := startDaemon(t, k)
	var err error
	textA, passA := issue(t, k.keys.Signer())
	if ev := d.scan(textA); ev.Result != feedback.Accepted {
		t.Fatalf("first scan: %+v", ev)
	}
	waitFor(t, 10*time.Second, "the check-in in the stream", func() bool {
		info, err := stream.Info(context.Background())
		return err == nil && info.State.Msgs == 1
	})

	// The central restarts: the kiosk watches again at once.
	waitFor(t, 5*time.Second, "the buckets loaded", func() bool { return strings.Count(d.logs.String(), "bucket loaded") == 4 })
	srv.restart()
	_, js = srv.connect(adminSeed)
	for b := range kvs {
		if kvs[b], err = js.KeyValue(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if stream, err = js.Stream(context.Background(), wire.Stream); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the reconnect", func() bool { return strings.Contains(d.logs.String(), `"msg":"sync reconnected"`) })

	// Revoked centrally: refused within 5 s.
	t0 := time.Now()
	put(t, kvs[wire.BucketRevoked], passA.RevocationID(), []byte("1"))
	d.scanUntil(textA, 5*time.Second, "revoked", revoked)
	t.Logf("a revocation reached the kiosk within %s", time.Since(t0))
	// Un-revoked (deleted): admitted again (a duplicate within the debounce window).
	if err := kvs[wire.BucketRevoked].Delete(context.Background(), passA.RevocationID()); err != nil {
		t.Fatal(err)
	}
	d.scanUntil(textA, 5*time.Second, "admitted", admitted)
	put(t, kvs[wire.BucketRevoked], passA.RevocationID(), []byte("1"))
	d.scanUntil(textA, 5*time.Second, "revoked", revoked)

	// New pass keys: when the central lists keys, exactly those verify.
	keys2, err := province.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	textC, _ := issue(t, keys2.Signer())
	if ev := d.scan(textC); ev.Reason != pass.ReasonUnknownKey {
		t.Fatalf("a pass of an unknown key: %+v", ev)
	}
	k2 := keys2.PassKeys()[0]
	put(t, kvs[wire.BucketPassKeys], fmt.Sprintf("%08x", k2.ID), signed(t, k.keys, province.KindPassKey, fmt.Sprintf("%08x", k2.ID), []byte(base64.StdEncoding.EncodeToString(k2.Key))))
	d.scanUntil(textC, 5*time.Second, "accepted", func(ev feedback.Event) bool { return ev.Result == feedback.Accepted })
	textB, _ := issue(t, k.keys.Signer())
	if ev := d.scan(textB); ev.Reason != pass.ReasonUnknownKey {
		t.Errorf("a pass of a key the central no longer lists: %+v", ev)
	}
	if err := kvs[wire.BucketPassKeys].Delete(context.Background(), fmt.Sprintf("%08x", k2.ID)); err != nil {
		t.Fatal(err)
	}
	d.scanUntil(textB, 5*time.Second, "accepted with the bundle's keys again", func(ev feedback.Event) bool { return ev.Result == feedback.Accepted })

	// An unsigned sealing key (as values were before they were signed) is
	// refused: the next record is still sealed to the bundle's key.
	put(t, kvs[wire.BucketSealing], "current", sealingValue(t, keys2))
	waitFor(t, 5*time.Second, "the refusal", func() bool {
		return strings.Contains(d.logs.String(), `"level":"ERROR","msg":"down-sync: key update refused: keeping the current keys","bucket":"anshim_sealing"`)
	})
	textU, passU := issue(t, k.keys.Signer())
	if ev := d.scan(textU); ev.Result != feedback.Accepted {
		t.Fatalf("scan after the refused key: %+v", ev)
	}
	// A new sealing key signed by the province's root: the next records are
	// sealed to it.
	put(t, kvs[wire.BucketSealing], "current", signed(t, k.keys, province.KindSealingKey, "current", sealingValue(t, keys2)))
	waitFor(t, 5*time.Second, "the new sealing key", func() bool { return strings.Contains(d.logs.String(), `"msg":"sealing key updated"`) })
	textD, passD := issue(t, k.keys.Signer())
	if ev := d.scan(textD); ev.Result != feedback.Accepted {
		t.Fatalf("scan after the key change: %+v", ev)
	}
	waitFor(t, 10*time.Second, "record 5 in the stream", func() bool {
		m, err := stream.GetLastMsgForSubject(context.Background(), wire.CheckInSubject(testVenue, k.dev.ID))
		if err != nil {
			return false
		}
		b, _, err := wire.Decode(m.Data)
		return err == nil && b.Head.Seq == 5
	})
	msgs := readStream(t, stream)
	var recs [][]byte
	for _, m := range msgs {
		recs = append(recs, m.batch.Records...)
	}
	last := msgs[len(msgs)-1].batch
	for _, c := range []struct {
		what string
		rec  []byte
		keys *province.Keys
		p    pass.Pass
	}{
		{"the record after the unsigned key, to the bundle's key", recs[len(recs)-2], k.keys, passU},
		{"the record after the signed rotation, to the new key", recs[len(recs)-1], keys2, passD},
	} {
		r, err := checkin.Decode(c.rec)
		if err != nil {
			t.Fatal(err)
		}
		p, err := checkin.Open(r.Sealed, c.keys.SealingPublicKey(), c.keys.SealingPrivateKey())
		if err != nil || p.Pseudonym != c.p.Pseudonym {
			t.Errorf("%s: not sealed so: %v", c.what, err)
		}
	}
	checkStream(t, k, msgs, int(last.Head.Seq), true)

	// Restart offline: the cached revocation still applies.
	d.shutdown()
	for line := range strings.Lines(d.logs.String()) {
		if (strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`)) && !strings.Contains(line, `"msg":"sync disconnected"`) &&
			!strings.Contains(line, `"msg":"down-sync: key update refused: keeping the current keys"`) &&
			!strings.Contains(line, `"msg":"sync: NATS without TLS (nats_insecure)`) {
			t.Errorf("while online: %s", line)
		}
	}
	srv.stop()
	d = startDaemon(t, k)
	if ev := d.scan(textA); !revoked(ev) {
		t.Errorf("offline after a restart, the revoked pass: %+v", ev)
	}
	if ev := d.scan(textD); ev.Result != feedback.Duplicate {
		t.Errorf("offline after a restart, a valid pass: %+v", ev)
	}
	if !strings.Contains(d.logs.String(), `"msg":"down-sync cache loaded"`) {
		t.Errorf("no cache line in the log:\n%s", d.logs.String())
	}
}

// Ensure that a kiosk without nats.json runs offline as before: it
// records, says so once, and never tries to connect.
func TestKiosk_NotEnrolledRunsOffline(t *testing.T) {
	k := provision(t)
	d := startDaemon(t, k)
	text, _ := issue(t, k.keys.Signer())
	if ev := d.scan(text); ev.Result != feedback.Accepted {
		t.Fatalf("scan: %+v", ev)
	}
	d.shutdown()
	logs := d.logs.String()
	if !strings.Contains(logs, `"msg":"sync off: running offline"`) || strings.Contains(logs, `"component":"sync"`) {
		t.Errorf("log of an offline kiosk:\n%s", logs)
	}
	k.open(t)
	if n := pending(t, k.ob); n != 1 {
		t.Errorf("%d records pending, want 1", n)
	}
}
