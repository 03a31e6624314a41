package central

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// testClock is an injectable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testServer is a started central with its clock, keys and config.
type testServer struct {
	*Server
	clock *testClock
	keys  *province.Keys
	cfg   Config
}

// testConfig returns the config of a central in dir with fresh province
// keys, random ports and the clock.
func testConfig(t *testing.T, dir string, clock *testClock) (Config, *province.Keys) {
	t.Helper()
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "province")); err != nil {
		t.Fatal(err)
	}
	return Config{
		Data: dir,
		HTTP: "127.0.0.1:0",
		// Plaintext, said explicitly: tls_test.go covers NATS over TLS.
		NATS: NATSConfig{Listen: "127.0.0.1:-1", Insecure: true},
		Now:  clock.Now,
	}, keys
}

// testLogger logs to the test's log when -v is given.
func testLogger(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startServer starts a central with an embedded NATS server in a temporary
// directory.
func startServer(t *testing.T) *testServer {
	t.Helper()
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	return startServerWith(t, cfg, keys, clock)
}

func startServerWith(t *testing.T, cfg Config, keys *province.Keys, clock *testClock) *testServer {
	t.Helper()
	s, err := New(cfg, testLogger(t))
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
	return &testServer{Server: s, clock: clock, keys: keys, cfg: cfg}
}

// do sends an HTTP request with a JSON body (nil for none) and the admin
// token when admin is set, and decodes the JSON response into out (if not
// nil). It returns the status code.
func (ts *testServer) do(t *testing.T, method, path string, body any, admin bool, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.HTTPURL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if admin {
		tok, err := os.ReadFile(ts.AdminTokenFile())
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	return resp.StatusCode
}

// addVenueAndToken registers a venue over HTTP and returns a token for it.
func (ts *testServer) addVenueAndToken(t *testing.T, venue string) string {
	t.Helper()
	if code := ts.do(t, "POST", "/v1/venues", testRegistration(venue, registry.StatusApproved), true, nil); code != http.StatusCreated && code != http.StatusConflict {
		t.Fatalf("add venue %s: status %d", venue, code)
	}
	var tok Token
	if code := ts.do(t, "POST", "/v1/venues/"+venue+"/tokens", nil, true, &tok); code != http.StatusCreated {
		t.Fatalf("new token: status %d", code)
	}
	return tok.Token
}

// testKiosk is a kiosk's keys and enrollment.
type testKiosk struct {
	key  ed25519.PrivateKey
	nkey nkeys.KeyPair
	enr  wire.Enrollment
}

func newTestKiosk(t *testing.T) *testKiosk {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nk, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	return &testKiosk{key: key, nkey: nk}
}

func (k *testKiosk) request(token string) wire.EnrollRequest {
	pub, _ := k.nkey.PublicKey()
	return wire.EnrollRequest{
		Token:     token,
		DeviceKey: base64.StdEncoding.EncodeToString(k.key.Public().(ed25519.PublicKey)),
		NKey:      pub,
	}
}

// enroll enrolls a new kiosk at venue over HTTP.
func (ts *testServer) enroll(t *testing.T, venue string) *testKiosk {
	t.Helper()
	k := newTestKiosk(t)
	tok := ts.addVenueAndToken(t, venue)
	if code := ts.do(t, "POST", "/v1/enroll", k.request(tok), false, &k.enr); code != http.StatusOK {
		t.Fatalf("enroll: status %d", code)
	}
	return k
}

// natsErrors collects a connection's asynchronous errors.
type natsErrors struct {
	mu   sync.Mutex
	errs []error
}

func (e *natsErrors) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
}

// waitFor waits until an error containing substr arrived.
func (e *natsErrors) waitFor(t *testing.T, substr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		for _, err := range e.errs {
			if strings.Contains(err.Error(), substr) {
				e.mu.Unlock()
				return
			}
		}
		e.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t.Fatalf("no NATS error containing %q; got %v", substr, e.errs)
}

// connect connects as the kiosk, the way the kiosk's uplink does.
func (k *testKiosk) connect(t *testing.T, url string, extra ...nats.Option) (*nats.Conn, *natsErrors) {
	t.Helper()
	pub, _ := k.nkey.PublicKey()
	errs := new(natsErrors)
	opts := append([]nats.Option{
		nats.Nkey(pub, k.nkey.Sign),
		nats.CustomInboxPrefix(k.enr.InboxPrefix),
		nats.ErrorHandler(errs.handler),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
		nats.ReconnectBufSize(-1),
	}, extra...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("kiosk %s connects: %v", k.enr.Device, err)
	}
	t.Cleanup(nc.Close)
	return nc, errs
}

// centralConn connects with the central's own NATS key.
func (ts *testServer) centralConn(t *testing.T) *nats.Conn {
	t.Helper()
	opt, err := nats.NkeyOptionFromSeed(ts.cfg.NKeyFileOrDefault())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(ts.NATSURL(), opt, nats.MaxReconnects(-1),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// watchAll reads a bucket's current values with a watcher, as a kiosk
// does, and returns the watcher for further updates.
func watchAll(t *testing.T, js jetstream.JetStream, bucket string) (map[string]string, jetstream.KeyWatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatalf("bind bucket %s: %v", bucket, err)
	}
	w, err := kv.WatchAll(context.Background())
	if err != nil {
		t.Fatalf("watch bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() { w.Stop() })
	got := make(map[string]string)
	for {
		select {
		case e := <-w.Updates():
			if e == nil { // the initial values are done
				return got, w
			}
			got[e.Key()] = string(e.Value())
		case <-ctx.Done():
			t.Fatalf("watch bucket %s: no initial values: %v", bucket, ctx.Err())
		}
	}
}

// readBucket reads a bucket's current values with a watcher, as a kiosk
// does, and stops the watcher.
func readBucket(t *testing.T, js jetstream.JetStream, bucket string) map[string]string {
	t.Helper()
	got, w := watchAll(t, js, bucket)
	if err := w.Stop(); err != nil {
		t.Errorf("stop watcher of %s: %v", bucket, err)
	}
	return got
}

// nextUpdate waits for the next update of a watcher.
func nextUpdate(t *testing.T, w jetstream.KeyWatcher) jetstream.KeyValueEntry {
	t.Helper()
	select {
	case e := <-w.Updates():
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no update")
		return nil
	}
}

// batchMaker builds a kiosk's chain of records and batches, as the kiosk's
// outbox and uplink do.
type batchMaker struct {
	k      *testKiosk
	sealer *checkin.Sealer
	seq    uint64
	hash   checkin.Hash
}

func (k *testKiosk) batches(keys *province.Keys) *batchMaker {
	return &batchMaker{k: k, sealer: checkin.NewSealer(keys.SealingPublicKey(), 0, nil), hash: checkin.Genesis(k.enr.Device)}
}

// next returns the next batch of n records, encoded, and its message id.
func (b *batchMaker) next(t *testing.T, n int) ([]byte, string) {
	t.Helper()
	batch := wire.Batch{Device: b.k.enr.Device, Venue: b.k.enr.Venue, Prev: b.hash,
		Sent: wire.Stamp{Wall: time.Now(), Quality: checkin.NTPSynced, Mono: time.Hour}}
	for range n {
		b.seq++
		sealed, err := b.sealer.Seal(checkin.Personal{PassKind: 1, Serial: uint32(b.seq)})
		if err != nil {
			t.Fatal(err)
		}
		r := checkin.Record{Device: b.k.enr.Device, Seq: b.seq, Venue: b.k.enr.Venue, Wall: time.Now(),
			Quality: checkin.NTPSynced, Mono: time.Minute, Kind: checkin.Entry, Sealed: sealed}
		raw, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		batch.Records = append(batch.Records, raw)
		b.hash = checkin.Next(b.hash, raw)
	}
	batch.Head = checkin.SignHead(b.k.key, b.k.enr.Device, b.seq, b.hash)
	data, err := batch.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data, batch.MsgID()
}

// waitStored waits until the store holds a device's records up to seq.
func (ts *testServer) waitStored(t *testing.T, device string, seq uint64) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%s stored up to %d", device, seq), func() bool {
		st, err := ts.store.State(context.Background(), device)
		return err == nil && st.LastSeq >= seq
	})
}
