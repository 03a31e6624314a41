package central

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// recordAPI records the JetStream API subjects published with replies
// below prefix, seen by a full-permission connection.
func recordAPI(t *testing.T, nc *nats.Conn, prefix string) func() []string {
	t.Helper()
	var mu sync.Mutex
	seen := make(map[string]bool)
	for _, subj := range []string{"$JS.API.>", "$JS.FC.>", "$JS.ACK.>"} {
		_, err := nc.Subscribe(subj, func(m *nats.Msg) {
			if strings.HasPrefix(m.Reply, prefix) || strings.HasPrefix(m.Subject, "$JS.FC.") {
				mu.Lock()
				seen[m.Subject] = true
				mu.Unlock()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for s := range seen {
			out = append(out, s)
		}
		sort.Strings(out)
		return out
	}
}

// Ensure that a device may publish only its own subject, subscribe only
// its own inbox, and watch the four down-sync buckets — on the real
// embedded server.
func TestDevicePermissions(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	a := ts.enroll(t, "cafe-1")
	b := ts.enroll(t, "cafe-2")
	recorded := recordAPI(t, ts.centralConn(t), a.enr.InboxPrefix)

	nc, errs := a.connect(t, ts.NATSURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("own subject gets a PubAck", func(t *testing.T) {
		ack, err := js.Publish(ctx, a.enr.Subject, []byte("batch"), jetstream.WithMsgID(a.enr.Device+"/1-1"))
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		if ack.Stream != wire.Stream || ack.Duplicate {
			t.Errorf("ack = %+v", ack)
		}
		// Async, as the uplink does.
		f, err := js.PublishAsync(a.enr.Subject, []byte("batch 2"), jetstream.WithMsgID(a.enr.Device+"/2-2"))
		if err != nil {
			t.Fatal(err)
		}
		select {
		case ack := <-f.Ok():
			if ack.Stream != wire.Stream {
				t.Errorf("async ack = %+v", ack)
			}
		case err := <-f.Err():
			t.Fatalf("async publish: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("no async PubAck")
		}
	})

	t.Run("other device's subject is refused", func(t *testing.T) {
		for _, subj := range []string{b.enr.Subject, "anshim.checkins.cafe-1.k-0000000000000000", "anshim.checkins.cafe-2." + a.enr.Device} {
			pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			_, err := js.Publish(pctx, subj, []byte("forged"))
			cancel()
			if err == nil {
				t.Errorf("publish to %s: acknowledged", subj)
			}
			errs.waitFor(t, fmt.Sprintf("Permissions Violation for Publish to %q", subj))
		}
		// Nothing of it reached the stream: it took A's two batches only.
		cjs, _ := jetstream.New(ts.centralConn(t))
		st, err := cjs.Stream(ctx, wire.Stream)
		if err != nil {
			t.Fatal(err)
		}
		if n := st.CachedInfo().State.LastSeq; n != 2 {
			t.Errorf("stream took %d messages, want 2", n)
		}
	})

	t.Run("other device's inbox is refused", func(t *testing.T) {
		sub, err := nc.SubscribeSync(b.enr.InboxPrefix + ".>")
		if err == nil {
			defer sub.Unsubscribe()
		}
		nc.Flush()
		errs.waitFor(t, fmt.Sprintf("Permissions Violation for Subscription to %q", b.enr.InboxPrefix+".>"))
		// And it receives nothing sent there.
		cnc := ts.centralConn(t)
		cnc.Publish(b.enr.InboxPrefix+".x", []byte("secret"))
		cnc.Flush()
		if m, err := sub.NextMsg(200 * time.Millisecond); err == nil {
			t.Errorf("got %q from another device's inbox", m.Data)
		}
		for _, subj := range []string{">", "anshim.checkins.>", "_INBOX.>"} {
			nc.SubscribeSync(subj)
			nc.Flush()
			errs.waitFor(t, fmt.Sprintf("Permissions Violation for Subscription to %q", subj))
		}
	})

	t.Run("no stream or consumer management", func(t *testing.T) {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		if _, err := js.Stream(pctx, wire.Stream); err == nil {
			t.Error("device read the check-in stream's info")
		}
		pctx2, cancel2 := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel2()
		if _, err := js.CreateKeyValue(pctx2, jetstream.KeyValueConfig{Bucket: "anshim_evil"}); err == nil {
			t.Error("device created a bucket")
		}
		kv, err := js.KeyValue(ctx, wire.BucketRevoked)
		if err != nil {
			t.Fatal(err)
		}
		pctx3, cancel3 := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel3()
		if _, err := kv.Put(pctx3, "00000000000000000000000000000000", []byte("1")); err == nil {
			t.Error("device revoked a pass")
		}
	})

	t.Run("KV watch of the four buckets", func(t *testing.T) {
		for _, bucket := range wire.DownSyncBuckets() {
			got := readBucket(t, js, bucket)
			t.Logf("%s: %d keys", bucket, len(got))
		}
		kv, err := js.KeyValue(ctx, wire.BucketSealing)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get(ctx, "current"); err != nil {
			t.Errorf("get sealing key: %v", err)
		}
		// A live update arrives.
		_, w := watchAll(t, js, wire.BucketRevoked)
		id := "0123456789abcdef0123456789abcdef"
		if err := ts.Revoke(ctx, id); err != nil {
			t.Fatal(err)
		}
		if e := nextUpdate(t, w); e.Key() != id || string(e.Value()) != "1" {
			t.Errorf("update = %s=%q", e.Key(), e.Value())
		}
	})

	t.Run("flow control of a large bucket", func(t *testing.T) {
		// More than 1 MiB pending makes the server ask the watcher for
		// flow control ($JS.FC...): the reply needs its permission.
		cjs, _ := jetstream.New(ts.centralConn(t))
		kv, err := cjs.KeyValue(ctx, wire.BucketVenues)
		if err != nil {
			t.Fatal(err)
		}
		big := make([]byte, 16<<10)
		for i := range big {
			big[i] = 'x'
		}
		const n = 160
		for i := range n {
			if _, err := kv.Put(ctx, fmt.Sprintf("bulk-%03d", i), big); err != nil {
				t.Fatal(err)
			}
		}
		got := readBucket(t, js, wire.BucketVenues)
		if len(got) < n {
			t.Errorf("watcher saw %d values, want at least %d", len(got), n)
		}
		for i := range n {
			kv.Purge(ctx, fmt.Sprintf("bulk-%03d", i))
		}
	})

	t.Run("unenrolled user cannot connect", func(t *testing.T) {
		k := newTestKiosk(t)
		pub, _ := k.nkey.PublicKey()
		_, err := nats.Connect(ts.NATSURL(), nats.Nkey(pub, k.nkey.Sign))
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Errorf("connect: err = %v, want an authorization violation", err)
		}
		// A's nkey with another key's signature of the nonce.
		apub, _ := a.nkey.PublicKey()
		_, err = nats.Connect(ts.NATSURL(), nats.Nkey(apub, k.nkey.Sign))
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Errorf("connect with a forged signature: err = %v, want an authorization violation", err)
		}
		// No credentials at all.
		if _, err = nats.Connect(ts.NATSURL()); err == nil {
			t.Error("connected without credentials")
		}
	})

	time.Sleep(100 * time.Millisecond)
	usedFC := false
	for _, s := range recorded() {
		usedFC = usedFC || strings.HasPrefix(s, "$JS.FC.")
		t.Logf("device used %s", s)
		allowed := false
		for _, p := range DevicePermissions(a.enr.Venue, a.enr.Device).Publish.Allow {
			if subjectMatches(p, s) {
				allowed = true
			}
		}
		if !allowed && !strings.Contains(s, "anshim_evil") && !strings.Contains(s, wire.Stream) && !strings.HasPrefix(s, "$KV.") {
			t.Errorf("the device needed %s, outside its permissions", s)
		}
	}
	if !usedFC {
		t.Error("no flow-control reply seen: the large bucket did not exercise $JS.FC")
	}
}

// subjectMatches reports whether subject matches the pattern with NATS
// wildcards.
func subjectMatches(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		if tok == ">" {
			return len(s) > i
		}
		if i >= len(s) || (tok != "*" && tok != s[i]) {
			return false
		}
	}
	return len(p) == len(s)
}

// Ensure that the buckets hold the province keys and the venues after
// start, and the revocation after Revoke; a restart writes nothing new.
func TestKV_StartAndRevoke(t *testing.T) {
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	ts := startServerWith(t, cfg, keys, clock)
	ctx := context.Background()
	if _, err := ts.AddVenue(ctx, "cafe-1", "Cafe One"); err != nil {
		t.Fatal(err)
	}
	cnc := ts.centralConn(t)
	js, err := jetstream.New(cnc)
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, wantRevoked map[string]string) {
		t.Helper()
		// Key values are key updates signed by the province's root key.
		open := func(bucket, kind string, m map[string]string) map[string]string {
			t.Helper()
			out := map[string]string{}
			for k, v := range m {
				u, err := keys.Bundle().OpenKeyUpdate([]byte(v), kind, k)
				if err != nil {
					t.Errorf("%s %s: %v", bucket, k, err)
					continue
				}
				out[k] = string(u.Payload)
			}
			return out
		}
		pk := open(wire.BucketPassKeys, province.KindPassKey, readBucket(t, js, wire.BucketPassKeys))
		want := map[string]string{}
		for _, k := range keys.PassKeys() {
			want[fmt.Sprintf("%08x", k.ID)] = base64.StdEncoding.EncodeToString(k.Key)
		}
		if !mapsEqual(pk, want) {
			t.Errorf("%s = %v, want %v", wire.BucketPassKeys, pk, want)
		}
		sealing := open(wire.BucketSealing, province.KindSealingKey, readBucket(t, js, wire.BucketSealing))
		var sv struct{ ID, Key string }
		if err := json.Unmarshal([]byte(sealing["current"]), &sv); err != nil || len(sealing) != 1 {
			t.Fatalf("%s = %v (%v)", wire.BucketSealing, sealing, err)
		}
		if sv.ID != keys.SealingKeyID() || sv.Key != base64.StdEncoding.EncodeToString(keys.SealingPublicKey()[:]) {
			t.Errorf("sealing = %+v", sv)
		}
		venues := readBucket(t, js, wire.BucketVenues)
		if want := map[string]string{"cafe-1": `{"name":"Cafe One","category":"other","default_stay":"60m"}`}; !mapsEqual(venues, want) {
			t.Errorf("%s = %v, want %v", wire.BucketVenues, venues, want)
		}
		revoked := readBucket(t, js, wire.BucketRevoked)
		if !mapsEqual(revoked, wantRevoked) {
			t.Errorf("%s = %v, want %v", wire.BucketRevoked, revoked, wantRevoked)
		}
	}
	check(t, map[string]string{})

	id := "00112233445566778899aabbccddeeff"
	if err := ts.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	var resp map[string]any
	id2 := "ffeeddccbbaa99887766554433221100"
	if code := ts.do(t, "POST", "/v1/revocations", map[string]string{"id": id2}, true, &resp); code != http.StatusOK {
		t.Fatalf("POST /v1/revocations: %d", code)
	}
	for _, bad := range []string{"", "00112233", "00112233445566778899AABBCCDDEEFF", "zz112233445566778899aabbccddeeff"} {
		if err := ts.Revoke(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Revoke(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if code := ts.do(t, "POST", "/v1/revocations", map[string]string{"id": "nope"}, true, nil); code != http.StatusBadRequest {
		t.Errorf("bad revocation id: %d, want 400", code)
	}
	if code := ts.do(t, "POST", "/v1/revocations", map[string]string{"id": id}, false, nil); code != http.StatusUnauthorized {
		t.Errorf("revocation without the admin token: %d, want 401", code)
	}
	check(t, map[string]string{id: "1", id2: "1"})

	// A restart with a rotated pass key: the bucket gains the key; nothing
	// else is rewritten.
	revs := revisions(t, js)
	cnc.Close()
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.RotatePassKey(nil); err != nil {
		t.Fatal(err)
	}
	if err := keys.Update(cfg.KeysOrDefault()); err != nil {
		t.Fatal(err)
	}
	cfg.NATS.Listen = strings.TrimPrefix(ts.NATSURL(), "nats://")
	ts = startServerWith(t, cfg, keys, clock)
	js, err = jetstream.New(ts.centralConn(t))
	if err != nil {
		t.Fatal(err)
	}
	check(t, map[string]string{id: "1", id2: "1"})
	after := revisions(t, js)
	for k, r := range revs {
		if after[k] != r {
			t.Errorf("%s: revision %d after restart, was %d", k, after[k], r)
		}
	}
	if len(after) != len(revs)+1 {
		t.Errorf("%d values after the rotation, want %d", len(after), len(revs)+1)
	}
}

// revisions returns the revision of every value in the buckets.
func revisions(t *testing.T, js jetstream.JetStream) map[string]uint64 {
	t.Helper()
	ctx := context.Background()
	out := map[string]uint64{}
	for _, b := range wire.DownSyncBuckets() {
		kv, err := js.KeyValue(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := kv.Keys(ctx)
		if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
			t.Fatal(err)
		}
		for _, k := range keys {
			e, err := kv.Get(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			out[b+"/"+k] = e.Revision()
		}
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Ensure that stopping and starting the embedded NATS server keeps its
// port and JetStream data; kiosks and the central reconnect, and a kiosk
// enrolled during the outage can connect afterwards.
func TestStopStartNATS(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	a := ts.enroll(t, "cafe-1")
	nc, _ := a.connect(t, ts.NATSURL())
	js, _ := jetstream.New(nc)
	batches := a.batches(ts.keys)
	publish := func(t *testing.T, js jetstream.JetStream, subject string, b *batchMaker) {
		t.Helper()
		data, id := b.next(t, 2)
		if _, err := js.Publish(ctx, subject, data, jetstream.WithMsgID(id)); err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
	}
	publish(t, js, a.enr.Subject, batches)
	ts.waitStored(t, a.enr.Device, 2)
	id := "00112233445566778899aabbccddeeff"
	if err := ts.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	url := ts.NATSURL()

	if err := ts.StopNATS(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "kiosk disconnected", func() bool { return !nc.IsConnected() })
	if code := ts.do(t, "GET", "/health", nil, false, nil); code != http.StatusServiceUnavailable {
		t.Errorf("health during the outage: %d, want 503", code)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	if err := ts.Revoke(rctx, "ffeeddccbbaa99887766554433221100"); err == nil {
		t.Error("revoke during the outage succeeded")
	}
	cancel()
	if code := ts.do(t, "POST", "/v1/revocations", map[string]string{"id": "ffeeddccbbaa99887766554433221100"}, true, nil); code != http.StatusServiceUnavailable {
		t.Errorf("revoke over HTTP during the outage: %d, want 503", code)
	}
	// Enrollment works without NATS.
	b := ts.enroll(t, "cafe-2")

	if err := ts.StartNATS(); err != nil {
		t.Fatal(err)
	}
	if ts.NATSURL() != url {
		t.Errorf("NATS URL after restart = %s, want %s", ts.NATSURL(), url)
	}
	if code := ts.do(t, "GET", "/health", nil, false, nil); code != http.StatusOK {
		t.Errorf("health after the outage: %d, want 200", code)
	}
	waitUntil(t, "kiosk reconnected", nc.IsConnected)
	publish(t, js, a.enr.Subject, batches)
	ncb, _ := b.connect(t, ts.NATSURL())
	jsb, _ := jetstream.New(ncb)
	publish(t, jsb, b.enr.Subject, b.batches(ts.keys))
	// Ingest carries on from its durable consumer.
	ts.waitStored(t, a.enr.Device, 4)
	ts.waitStored(t, b.enr.Device, 2)

	cjs, _ := jetstream.New(ts.centralConn(t))
	st, err := cjs.Stream(ctx, wire.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.LastSeq; n != 3 {
		t.Errorf("stream took %d messages in all, want 3 (its files were kept)", n)
	}
	revoked := readBucket(t, cjs, wire.BucketRevoked)
	if revoked[id] != "1" {
		t.Errorf("revocation lost in the outage: %v", revoked)
	}
	if err := ts.Revoke(ctx, "ffeeddccbbaa99887766554433221100"); err != nil {
		t.Errorf("revoke after the outage: %v", err)
	}
	// The venue added during the outage reaches the bucket after it.
	vkv, err := cjs.KeyValue(ctx, wire.BucketVenues)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "venue of the outage published", func() bool {
		_, err := vkv.Get(ctx, "cafe-2")
		return err == nil
	})
	// A second outage works too.
	if err := ts.StopNATS(); err != nil {
		t.Fatal(err)
	}
	if err := ts.StartNATS(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "kiosk reconnected again", nc.IsConnected)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Ensure that the embedded server fsyncs every write (pitfall 5) and has
// the configured max payload.
func TestEmbeddedNATS_Options(t *testing.T) {
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	cfg.NATS.MaxPayload = 512 << 10
	ts := startServerWith(t, cfg, keys, clock)
	ts.nats.mu.Lock()
	jsc := ts.nats.ns.JetStreamConfig()
	ts.nats.mu.Unlock()
	if !jsc.SyncAlways {
		t.Error("SyncAlways is off")
	}
	if want := filepath.Join(cfg.Data, "nats"); !strings.HasPrefix(jsc.StoreDir, want) {
		t.Errorf("StoreDir = %s, want %s", jsc.StoreDir, want)
	}
	if nc := ts.centralConn(t); nc.MaxPayload() != 512<<10 {
		t.Errorf("client sees max payload %d", nc.MaxPayload())
	}
}

// Ensure that the central works with an external NATS server whose
// configuration includes DATA/nats-devices.conf: devices can connect after
// a reload, with the same isolation.
func TestExternalNATS(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	cfg, keys := testConfig(t, filepath.Join(dir, "central"), clock)

	// The central's key exists before the NATS server starts: New makes it
	// and writes nothing else, so the conf is written at Start. Write the
	// first conf by hand through the same code, as an operator's first run.
	kp, _, err := loadUserKey(cfg.NKeyFileOrDefault())
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	devConf := filepath.Join(cfg.Data, DevicesConfFile)
	if err := os.WriteFile(devConf, formatDevicesConf([]natsUser{{NKey: pub}}), 0o644); err != nil {
		t.Fatal(err)
	}
	mainConf := filepath.Join(dir, "nats-server.conf")
	if err := os.WriteFile(mainConf, []byte(fmt.Sprintf(`listen: "127.0.0.1:-1"
jetstream {
  store_dir: %q
  sync_interval: always
}
include "central/nats-devices.conf"
`, filepath.Join(dir, "js"))), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(mainConf)
	if err != nil {
		t.Fatal(err)
	}
	opts.NoSigs, opts.NoLog = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS not ready")
	}
	reload := func() { // nats-server --signal reload
		t.Helper()
		if err := ns.Reload(); err != nil {
			t.Fatalf("reload: %v", err)
		}
	}

	cfg.NATS.Listen = ""
	cfg.NATS.URLs = []string{ns.ClientURL()}
	ts := startServerWith(t, cfg, keys, clock)
	a := ts.enroll(t, "cafe-1")
	b := ts.enroll(t, "cafe-2")
	if got := a.enr.NATSURLs; !slices.Equal(got, cfg.NATS.URLs) {
		t.Errorf("nats_urls = %v, want %v", got, cfg.NATS.URLs)
	}
	conf, err := os.ReadFile(devConf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{a.enr.Device, b.enr.Device, `"` + a.enr.Subject + `"`, `"$JS.FC.KV_anshim_revoked.>"`} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("%s lacks %s", DevicesConfFile, want)
		}
	}
	reload()

	nc, errs := a.connect(t, ns.ClientURL())
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := js.Publish(ctx, a.enr.Subject, []byte("batch")); err != nil {
		t.Fatalf("publish own subject: %v", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if _, err := js.Publish(pctx, b.enr.Subject, []byte("forged")); err == nil {
		t.Error("published to another device's subject")
	}
	errs.waitFor(t, "Permissions Violation for Publish")
	for _, bucket := range wire.DownSyncBuckets() {
		readBucket(t, js, bucket)
	}
}

// Ensure that the devices conf parses as the NATS server reads it and
// gives exactly DevicePermissions.
func TestFormatDevicesConf(t *testing.T) {
	central, _ := nkeys.CreateUser()
	dev, _ := nkeys.CreateUser()
	cpub, _ := central.PublicKey()
	dpub, _ := dev.PublicKey()
	perms := DevicePermissions("cafe-1", "k-0123456789abcdef")
	conf := formatDevicesConf([]natsUser{{NKey: cpub}, {NKey: dpub, Device: "k-0123456789abcdef", Permissions: perms}})
	path := filepath.Join(t.TempDir(), "n.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, conf)
	}
	if len(opts.Nkeys) != 2 {
		t.Fatalf("%d nkey users", len(opts.Nkeys))
	}
	if u := opts.Nkeys[0]; u.Nkey != cpub || u.Permissions != nil {
		t.Errorf("central user = %+v", u)
	}
	u := opts.Nkeys[1]
	if u.Nkey != dpub || u.Permissions == nil ||
		!slices.Equal(u.Permissions.Publish.Allow, perms.Publish.Allow) ||
		!slices.Equal(u.Permissions.Subscribe.Allow, perms.Subscribe.Allow) {
		t.Errorf("device user = %+v\nconf:\n%s", u.Permissions, conf)
	}
}
