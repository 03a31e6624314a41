package central

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/sync/wire"
)

// logRecorder keeps the log lines of a central (text handler), and passes
// them to the test's log with -v.
type logRecorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
	t   *testing.T
}

func (r *logRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.buf.Write(p)
	r.mu.Unlock()
	if testing.Verbose() {
		r.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// lines returns the logged lines containing every one of substrs.
func (r *logRecorder) lines(substrs ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range strings.Split(r.buf.String(), "\n") {
		ok := l != ""
		for _, s := range substrs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// startGuardedServer starts a central whose log is recorded.
func startGuardedServer(t *testing.T) (*testServer, *logRecorder) {
	t.Helper()
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	rec := &logRecorder{t: t}
	s, err := New(cfg, slog.New(slog.NewTextHandler(rec, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &testServer{Server: s, clock: clock, keys: keys, cfg: cfg}, rec
}

// createConsumer sends a consumer-create request as nc would for a
// watch, with the given configuration, to the subject form a device may
// use, and returns the API's error ("" when created).
func createConsumer(t *testing.T, nc *nats.Conn, stream, name string, cfg map[string]any) string {
	t.Helper()
	subj := fmt.Sprintf("$JS.API.CONSUMER.CREATE.%s.%s.%s", stream, name, cfg["filter_subject"])
	req, err := json.Marshal(map[string]any{"stream_name": stream, "config": cfg})
	if err != nil {
		t.Fatal(err)
	}
	m, err := nc.Request(subj, req, 2*time.Second)
	if err != nil {
		return err.Error()
	}
	var resp consumerCreateResponse
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		t.Fatalf("create response %q: %v", m.Data, err)
	}
	if resp.Error != nil {
		return resp.Error.Description
	}
	return ""
}

// consumerExists reports whether the stream has the consumer.
func consumerExists(t *testing.T, js jetstream.JetStream, stream, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	// Stream.Consumer refuses push consumers: list the names.
	names := st.ConsumerNames(ctx)
	found := false
	for n := range names.Name() {
		found = found || n == name
	}
	if err := names.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		t.Fatalf("consumers of %s: %v", stream, err)
	}
	return found
}

// Ensure that watchShape and judgeConsumer accept exactly what a kiosk's
// watch makes, delivering into its creator's inbox.
func TestConsumerGuard_Judge(t *testing.T) {
	const central, keyA, keyB = "UCENTRAL", "UDEVICEA", "UDEVICEB"
	nkeyOf := func(d string) (string, bool) {
		switch d {
		case "k-a":
			return keyA, true
		case "k-b":
			return keyB, true
		}
		return "", false
	}
	watch := func(edit func(c *jetstream.ConsumerConfig)) *jetstream.ConsumerConfig {
		c := &jetstream.ConsumerConfig{Name: "w", DeliverSubject: "_INBOX_k-a.abc", AckPolicy: jetstream.AckNonePolicy,
			FilterSubject: "$KV.anshim_revoked.>", InactiveThreshold: 5 * time.Second, FlowControl: true, IdleHeartbeat: 5 * time.Second}
		if edit != nil {
			edit(c)
		}
		return c
	}
	for _, tc := range []struct {
		name    string
		cfg     *jetstream.ConsumerConfig
		creator string // "" for a sweep
		reason  string // "" keeps it
	}{
		{"watch of its own", watch(nil), keyA, ""},
		{"watch in a sweep", watch(nil), "", ""},
		{"central's watch", watch(func(c *jetstream.ConsumerConfig) { c.DeliverSubject = "_INBOX.xyz" }), central, ""},
		{"central's durable", watch(func(c *jetstream.ConsumerConfig) { c.Durable, c.DeliverSubject = "ingest", "" }), central, ""},
		{"central's inbox in a sweep", watch(func(c *jetstream.ConsumerConfig) { c.DeliverSubject = "_INBOX.xyz" }), "", ""},
		{"durable", watch(func(c *jetstream.ConsumerConfig) { c.Durable = "w" }), keyA, "durable consumer"},
		{"durable in a sweep", watch(func(c *jetstream.ConsumerConfig) { c.Durable = "w" }), "", "durable consumer"},
		{"pull", watch(func(c *jetstream.ConsumerConfig) { c.DeliverSubject = "" }), keyA, "pull consumer"},
		{"explicit acks", watch(func(c *jetstream.ConsumerConfig) { c.AckPolicy = jetstream.AckExplicitPolicy }), keyA, "acknowledged consumer"},
		{"queue group", watch(func(c *jetstream.ConsumerConfig) { c.DeliverGroup = "q" }), keyA, "queue group"},
		{"lives an hour", watch(func(c *jetstream.ConsumerConfig) { c.InactiveThreshold = time.Hour }), keyA, "inactive threshold"},
		{"another device's inbox", watch(func(c *jetstream.ConsumerConfig) { c.DeliverSubject = "_INBOX_k-b.abc" }), keyA, "another device's inbox"},
		{"the central's inbox", watch(func(c *jetstream.ConsumerConfig) { c.DeliverSubject = "_INBOX.abc" }), keyA, "central's inbox"},
		{"ledger subject", watch(func(c *jetstream.ConsumerConfig) { c.DeliverSubject = wire.SubjectReceiptRequest }), keyA, "outside the inboxes"},
		{"another bucket", watch(func(c *jetstream.ConsumerConfig) { c.DeliverSubject = "$KV.anshim_venues.v-1" }), keyA, "outside the inboxes"},
		{"inbox prefix without a dot", watch(func(c *jetstream.ConsumerConfig) { c.DeliverSubject = "_INBOX_k-a" }), keyA, "outside the inboxes"},
		{"inbox of no device", watch(func(c *jetstream.ConsumerConfig) { c.DeliverSubject = "_INBOX_k-zz.abc" }), "", "not enrolled"},
		{"unknown creator", watch(nil), "(unknown)", "another device's inbox"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := judgeConsumer(tc.cfg, tc.creator, central, nkeyOf)
			if tc.reason == "" && v.Reason != "" || tc.reason != "" && !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("reason = %q, want %q", v.Reason, tc.reason)
			}
		})
	}
}

// Ensure that a device's permissions allow the watch's create subject of
// each bucket and nothing else of the consumer API, deny the durable
// create API, and that the devices conf carries the deny list.
func TestDevicePermissions_ConsumerCreateSubjects(t *testing.T) {
	const dev = "k-0123456789abcdef"
	perms := DevicePermissions("cafe-1", dev)
	allowed := func(subject string) bool {
		for _, d := range perms.Publish.Deny {
			if subjectMatches(d, subject) {
				return false
			}
		}
		for _, p := range perms.Publish.Allow {
			if subjectMatches(p, subject) {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		subject string
		want    bool
	}{
		{"$JS.API.CONSUMER.CREATE.KV_anshim_revoked.AbC123.$KV.anshim_revoked.>", true},
		{"$JS.API.CONSUMER.CREATE.KV_anshim_venues.AbC123.$KV.anshim_venues.cafe-1", true},
		{"$JS.API.CONSUMER.CREATE.KV_anshim_witness.AbC123.$KV.anshim_witness.>", true},
		{"$JS.API.CONSUMER.CREATE.KV_anshim_revoked", false},        // legacy ephemeral
		{"$JS.API.CONSUMER.CREATE.KV_anshim_revoked.AbC123", false}, // no filter, or several
		{"$JS.API.CONSUMER.CREATE.KV_anshim_revoked.AbC123.$KV.anshim_venues.>", false},
		{"$JS.API.CONSUMER.DURABLE.CREATE.KV_anshim_revoked.evil", false},
		{"$JS.API.CONSUMER.CREATE." + wire.Stream + ".x.anshim.checkins.>", false},
	} {
		if got := allowed(tc.subject); got != tc.want {
			t.Errorf("%s: allowed = %v, want %v", tc.subject, got, tc.want)
		}
	}
	if !slices.Contains(perms.Publish.Deny, "$JS.API.CONSUMER.DURABLE.CREATE.>") {
		t.Errorf("deny = %v", perms.Publish.Deny)
	}
	// The conf an external server includes gives the same deny list.
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	path := filepath.Join(t.TempDir(), "n.conf")
	if err := os.WriteFile(path, formatDevicesConf([]natsUser{{NKey: pub, Device: dev, Permissions: perms}}), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := opts.Nkeys[0].Permissions.Publish.Deny; !slices.Equal(got, perms.Publish.Deny) {
		t.Errorf("conf deny = %v, want %v", got, perms.Publish.Deny)
	}
}

// Ensure that with the guard running, a kiosk's watches of every bucket
// (and the witness bucket) still deliver their values and updates, and
// nothing is removed; a durable create over the legacy API is refused by
// permissions.
func TestConsumerGuard_WatchStillWorks(t *testing.T) {
	ts, rec := startGuardedServer(t)
	ctx := context.Background()
	a := ts.enroll(t, "cafe-1")
	nc, errs := a.connect(t, ts.NATSURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cjs, _ := jetstream.New(ts.centralConn(t))
	waitUntil(t, "witness bucket", func() bool { _, err := cjs.KeyValue(ctx, wire.BucketWitness); return err == nil })

	for _, b := range append(wire.DownSyncBuckets(), wire.BucketWitness) {
		readBucket(t, js, b)
	}
	_, w := watchAll(t, js, wire.BucketRevoked)
	_, wv := watchAll(t, js, wire.BucketVenues)
	time.Sleep(300 * time.Millisecond) // the guard has seen the creates
	id := "0123456789abcdef0123456789abcdef"
	if err := ts.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	if e := nextUpdate(t, w); e.Key() != id {
		t.Errorf("update = %s", e.Key())
	}
	if _, err := ts.AddVenue(ctx, "cafe-9", "Cafe Nine"); err != nil {
		t.Fatal(err)
	}
	if e := nextUpdate(t, wv); e.Key() != "cafe-9" {
		t.Errorf("venue update = %s", e.Key())
	}
	// A sweep keeps the kiosk's watches and the central's durable
	// ingest consumer.
	if n, err := ts.sweepConsumers(ctx); err != nil || n != 0 {
		t.Errorf("sweep removed %d (%v), want 0", n, err)
	}
	if _, err := cjs.Consumer(ctx, wire.Stream, ingestDurable); err != nil {
		t.Errorf("ingest consumer after a sweep: %v", err)
	}
	if n := ts.metrics.kvConsumersRemoved.Load(); n != 0 {
		t.Errorf("removed %d consumers of a well-behaved kiosk: %v", n, rec.lines("consumer guard"))
	}
	if e := nextUpdateOrNil(w, 200*time.Millisecond); e != nil {
		t.Errorf("unexpected update %s", e.Key())
	}

	// The legacy durable API is denied by permissions.
	nc.Request("$JS.API.CONSUMER.DURABLE.CREATE.KV_anshim_revoked.evil", []byte(`{}`), 300*time.Millisecond)
	errs.waitFor(t, `Permissions Violation for Publish to "$JS.API.CONSUMER.DURABLE.CREATE.KV_anshim_revoked.evil"`)
}

// nextUpdateOrNil returns the watcher's next update within d, or nil.
func nextUpdateOrNil(w jetstream.KeyWatcher, d time.Duration) jetstream.KeyValueEntry {
	select {
	case e := <-w.Updates():
		return e
	case <-time.After(d):
		return nil
	}
}

// Ensure that a durable, pull or acknowledged consumer a device creates on
// a KV stream is removed within a second, logged at WARN with the
// creating device, and counted.
func TestConsumerGuard_Durable(t *testing.T) {
	ts, rec := startGuardedServer(t)
	a := ts.enroll(t, "cafe-1")
	nc, _ := a.connect(t, ts.NATSURL())
	cjs, _ := jetstream.New(ts.centralConn(t))
	base := func() map[string]any {
		return map[string]any{"deliver_subject": a.enr.InboxPrefix + ".evil", "ack_policy": "none",
			"filter_subject": "$KV." + wire.BucketRevoked + ".>", "deliver_policy": "last_per_subject"}
	}
	for i, tc := range []struct {
		name   string
		edit   func(m map[string]any)
		reason string
	}{
		{"durable push", func(m map[string]any) { m["durable_name"] = "evil0" }, "durable consumer"},
		{"durable pull", func(m map[string]any) {
			m["durable_name"] = "evil1"
			delete(m, "deliver_subject")
			m["ack_policy"] = "explicit"
		}, "durable consumer"},
		{"ephemeral pull", func(m map[string]any) { delete(m, "deliver_subject") }, "pull consumer"},
		{"explicit acks", func(m map[string]any) { m["ack_policy"] = "explicit" }, "acknowledged consumer"},
		{"lives a day", func(m map[string]any) { m["inactive_threshold"] = int64(24 * time.Hour) }, "inactive threshold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("evil%d", i)
			cfg := base()
			tc.edit(cfg)
			start := time.Now()
			if e := createConsumer(t, nc, "KV_"+wire.BucketRevoked, name, cfg); e != "" {
				t.Fatalf("create: %s", e)
			}
			for consumerExists(t, cjs, "KV_"+wire.BucketRevoked, name) {
				if time.Since(start) > time.Second {
					t.Fatal("consumer still there after 1 s")
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Logf("gone after %v", time.Since(start).Round(time.Millisecond))
			waitUntil(t, "WARN logged", func() bool {
				return len(rec.lines("level=WARN", "consumer guard: removed", "consumer="+name, "created_by="+a.enr.Device, tc.reason)) == 1
			})
		})
	}
	if n := ts.metrics.kvConsumersRemoved.Load(); n != 5 {
		t.Errorf("removed counter = %d, want 5", n)
	}
}

// Ensure that a push consumer a device points at a foreign subject —
// another device's inbox, a subject the central serves, another bucket —
// is removed within a second, and measure what reaches the victim in the
// race window. The guard acts after the server created the consumer, so
// it cannot promise that nothing arrives: with no flow control the
// consumer delivers a 2,000-key bucket in one burst before the removal
// (logged). The test asserts the removal, the WARN naming the creator,
// and that nothing arrives after the removal.
func TestConsumerGuard_ForeignDeliverSubject(t *testing.T) {
	ts, rec := startGuardedServer(t)
	ctx := context.Background()
	a := ts.enroll(t, "cafe-1")
	b := ts.enroll(t, "cafe-2")
	nca, _ := a.connect(t, ts.NATSURL())
	ncb, _ := b.connect(t, ts.NATSURL())
	cnc := ts.centralConn(t)
	cjs, _ := jetstream.New(cnc)
	// The bucket the attacker replays: many revocations.
	const n = 2000
	rkv, err := cjs.KeyValue(ctx, wire.BucketRevoked)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := rkv.Put(ctx, fmt.Sprintf("%032x", i), []byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	vkv, err := cjs.KeyValue(ctx, wire.BucketVenues)
	if err != nil {
		t.Fatal(err)
	}

	// counting subscribes a victim and counts what it receives.
	counting := func(t *testing.T, nc *nats.Conn, subject string) *atomic.Int64 {
		var got atomic.Int64
		sub, err := nc.Subscribe(subject, func(*nats.Msg) { got.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Unsubscribe() })
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		return &got
	}
	for i, tc := range []struct {
		name    string
		deliver string
		// victim counts what reached the target (nil: a stream).
		victim func(t *testing.T) func() int64
		reason string
	}{
		{"another device's inbox", b.enr.InboxPrefix + ".stolen", func(t *testing.T) func() int64 {
			return counting(t, ncb, b.enr.InboxPrefix+".>").Load
		}, "another device's inbox"},
		{"a subject the central serves", wire.SubjectReceiptRequest, func(t *testing.T) func() int64 {
			return counting(t, cnc, wire.SubjectReceiptRequest).Load
		}, "outside the inboxes"},
		{"another device's alerts", wire.AlertSubject(b.enr.Device), func(t *testing.T) func() int64 {
			return counting(t, cnc, wire.AlertSubject(b.enr.Device)).Load
		}, "outside the inboxes"},
		{"another bucket", "$KV." + wire.BucketVenues + ".forged", func(t *testing.T) func() int64 {
			return func() int64 {
				e, err := vkv.Get(ctx, "forged")
				if err != nil {
					return 0
				}
				return int64(e.Revision()) // at least the puts that arrived
			}
		}, "outside the inboxes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.victim(t)
			name := fmt.Sprintf("stolen%d", i)
			cfg := map[string]any{"deliver_subject": tc.deliver, "ack_policy": "none",
				"filter_subject": "$KV." + wire.BucketRevoked + ".>", "deliver_policy": "all"}
			start := time.Now()
			if e := createConsumer(t, nca, "KV_"+wire.BucketRevoked, name, cfg); e != "" {
				t.Fatalf("create: %s", e)
			}
			for consumerExists(t, cjs, "KV_"+wire.BucketRevoked, name) {
				if time.Since(start) > time.Second {
					t.Fatal("consumer still there after 1 s")
				}
				time.Sleep(2 * time.Millisecond)
			}
			gone := time.Since(start)
			time.Sleep(100 * time.Millisecond) // what was in flight arrives
			atRemoval := got()
			time.Sleep(300 * time.Millisecond)
			after := got()
			t.Logf("deliver %s: consumer gone after %v; victim received %d of %d messages in the race window",
				tc.deliver, gone.Round(time.Millisecond), atRemoval, n)
			if after != atRemoval {
				t.Errorf("victim received %d more after the removal", after-atRemoval)
			}
			waitUntil(t, "WARN logged", func() bool {
				return len(rec.lines("level=WARN", "consumer="+name, "created_by="+a.enr.Device, tc.reason)) == 1
			})
		})
	}
}

// Ensure that the sweep at start removes a durable consumer made while no
// guard ran, and keeps the central's own.
func TestConsumerGuard_SweepAtStart(t *testing.T) {
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	ts := startServerWith(t, cfg, keys, clock)
	ctx := context.Background()
	cjs, _ := jetstream.New(ts.centralConn(t))
	// Made by the central's own user, as a stand-in for one made while
	// the central was away: the advisory path keeps the central's, the
	// sweep judges by shape.
	if _, err := cjs.CreateOrUpdateConsumer(ctx, "KV_"+wire.BucketSealing, jetstream.ConsumerConfig{Durable: "left-behind", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.NATS.Listen = strings.TrimPrefix(ts.NATSURL(), "nats://")
	ts2, rec := func() (*testServer, *logRecorder) {
		rec := &logRecorder{t: t}
		s, err := New(cfg, slog.New(slog.NewTextHandler(rec, nil)))
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.Start(sctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return &testServer{Server: s, clock: clock, keys: keys, cfg: cfg}, rec
	}()
	cjs2, _ := jetstream.New(ts2.centralConn(t))
	waitUntil(t, "left-behind consumer removed", func() bool { return !consumerExists(t, cjs2, "KV_"+wire.BucketSealing, "left-behind") })
	if _, err := cjs2.Consumer(ctx, wire.Stream, ingestDurable); err != nil {
		t.Errorf("ingest consumer after the sweep: %v", err)
	}
	waitUntil(t, "WARN logged", func() bool { return len(rec.lines("level=WARN", "consumer=left-behind", "durable consumer")) == 1 })
	if n := ts2.metrics.kvConsumersRemoved.Load(); n != 1 {
		t.Errorf("removed counter = %d, want 1", n)
	}
}

// ingestDurable is the central's durable ingest consumer
// (ingest.Config.Durable's default).
const ingestDurable = "central"
