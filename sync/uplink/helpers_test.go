package uplink_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/internal/logtest"
	"github.com/anshim/anshim/internal/natstest"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

const testVenue = "v-1234567891"

// natsServer is a real embedded nats-server with JetStream on a file store
// in a temporary directory, on a random port that survives restarts
// (natstest).
type natsServer struct {
	*natstest.Server
	t testing.TB
}

// startNATS starts a server; users nil means no authentication.
func startNATS(t testing.TB, users []*server.NkeyUser) *natsServer {
	t.Helper()
	return &natsServer{Server: natstest.StartJetStream(t, users...), t: t}
}

func (n *natsServer) start() { n.t.Helper(); n.Start() }

// stop shuts the server down (a no-op when stopped).
func (n *natsServer) stop() { n.Stop() }

// restart starts a new server on the same port and store.
func (n *natsServer) restart() { n.t.Helper(); n.Restart() }

// connect returns a client connection (with seed when not nil).
func (n *natsServer) connect(seed []byte) (*nats.Conn, jetstream.JetStream) {
	n.t.Helper()
	var opts []nats.Option
	if seed != nil {
		kp, err := nkeys.FromSeed(seed)
		if err != nil {
			n.t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	}
	return natstest.Connect(n.t, n.URL, opts...)
}

// createStream makes the check-in stream as docs/sync.md describes it.
func createStream(t testing.TB, js jetstream.JetStream) jetstream.Stream {
	t.Helper()
	s, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: wire.Stream, Subjects: []string{wire.CheckInsWildcard}, Storage: jetstream.FileStorage,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// userKey makes a NATS user nkey: its seed and public key.
func userKey(t testing.TB) ([]byte, string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	return seed, pub
}

// devicePermissions mirrors central.DevicePermissions: the device may
// publish its batches and the JetStream API calls of a KV watch, and
// subscribe only below its own inbox prefix.
func devicePermissions(venue, device string) *server.Permissions {
	pub := []string{wire.CheckInSubject(venue, device)}
	for _, b := range []string{wire.BucketRevoked, wire.BucketPassKeys, wire.BucketSealing, wire.BucketVenues} {
		stream := "KV_" + b
		pub = append(pub, "$JS.API.STREAM.INFO."+stream, "$JS.API.CONSUMER.CREATE."+stream+".>",
			"$JS.API.CONSUMER.DELETE."+stream+".>", "$JS.API.DIRECT.GET."+stream+".>", "$JS.FC."+stream+".>")
	}
	pub = append(pub, wire.SubjectReceiptRequest, wire.SubjectConsistencyRequest, wire.SubjectCheckpointRequest, wire.AlertSubject(device), wire.StatusSubject(device))
	ws := "KV_" + wire.BucketWitness
	pub = append(pub, "$JS.API.STREAM.INFO."+ws, "$JS.API.CONSUMER.CREATE."+ws+".>", "$JS.API.CONSUMER.DELETE."+ws+".>",
		"$JS.FC."+ws+".>", "$KV."+wire.BucketWitness+"."+device)
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: []string{wire.InboxPrefix(device) + ".>", wire.ReceiptSubject(device)}},
	}
}

// testKiosk is a provisioned kiosk data directory with its outbox open.
type testKiosk struct {
	dir  string
	keys *province.Keys
	dev  *kiosk.Device
	ob   *kiosk.Outbox
	born time.Time // the start of its one boot (see trustedClock)
}

// newKiosk provisions a kiosk and opens its outbox.
func newKiosk(t testing.TB) *testKiosk {
	t.Helper()
	k := provision(t)
	k.open(t)
	return k
}

// provision provisions a kiosk data directory, the outbox left closed.
func provision(t testing.TB) *testKiosk {
	t.Helper()
	keys, err := province.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	kdir := filepath.Join(t.TempDir(), "keys")
	if err := keys.Save(kdir); err != nil {
		t.Fatal(err)
	}
	k := &testKiosk{dir: filepath.Join(t.TempDir(), "kiosk"), keys: keys, born: time.Now()}
	if k.dev, err = kiosk.Provision(k.dir, filepath.Join(kdir, province.BundleFile), testVenue, time.Now()); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *testKiosk) open(t testing.TB) {
	t.Helper()
	ob, err := kiosk.OpenOutbox(filepath.Join(k.dir, kiosk.FileOutbox), k.dev.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	k.ob = ob
	t.Cleanup(func() {
		if k.ob == ob {
			k.close()
		}
	})
}

// close closes the outbox.
func (k *testKiosk) close() {
	k.ob.Close()
	k.ob = nil
}

// fill appends n records, group-committed by 16 concurrent appenders.
func (k *testKiosk) fill(t testing.TB, n int) { k.fillBy(t, n, 16) }

// fillBy appends n records from workers concurrent appenders: commits of
// up to workers records.
func (k *testKiosk) fillBy(t testing.TB, n, workers int) {
	t.Helper()
	sealed := make([]byte, checkin.SealedLen)
	rand.Read(sealed)
	clock := kiosk.NewSystemClock()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if _, err := k.ob.Append(context.Background(), kiosk.Entry{At: clock.Now(), Kind: checkin.Entry, Sealed: sealed}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// config is an uplink configuration for k with fast retries.
func (k *testKiosk) config(url string, log *slog.Logger) uplink.Config {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return uplink.Config{
		Outbox: k.ob, Device: k.dev.ID, Venue: k.dev.Venue, URLs: []string{url},
		Log: log, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		AckTimeout: 2 * time.Second, Poll: 20 * time.Millisecond, ShutdownGrace: -1,
	}
}

// run starts an uplink; the returned function stops it and waits.
func run(t testing.TB, cfg uplink.Config) (*uplink.Uplink, func()) {
	t.Helper()
	u, err := uplink.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("uplink.Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("uplink did not stop within 10s of its context's end")
			}
		})
	}
	t.Cleanup(stop)
	return u, stop
}

// waitFor polls cond every 10ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func pending(t testing.TB, ob *kiosk.Outbox) int {
	n, err := ob.Pending()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stored is one message of the check-in stream, decoded.
type stored struct {
	streamSeq uint64
	msgID     string
	subject   string
	batch     *wire.Batch
}

// readStream returns every message of the stream, in stream order.
func readStream(t testing.TB, s jetstream.Stream) []stored {
	t.Helper()
	ctx := context.Background()
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []stored
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("stream message %d: %v", seq, err)
		}
		b, _, err := wire.Decode(m.Data)
		if err != nil {
			t.Fatalf("stream message %d: %v", seq, err)
		}
		out = append(out, stored{streamSeq: seq, msgID: m.Header.Get(jetstream.MsgIDHeader), subject: m.Subject, batch: b})
	}
	return out
}

// checkStream checks that records 1..n arrived, each in batches that all
// carry the same Nats-Msg-Id, that every batch verifies with the device key
// and chains to the one before, and reports the number of messages that
// repeat an earlier batch. With exact, nothing may repeat.
func checkStream(t testing.TB, k *testKiosk, msgs []stored, n int, exact bool) (repeats int) {
	t.Helper()
	idOf := map[uint64]string{}
	seen := map[string]bool{}
	var last uint64
	var head checkin.Hash
	for _, m := range msgs {
		b := m.batch
		if m.subject != wire.CheckInSubject(testVenue, k.dev.ID) {
			t.Errorf("message %d on subject %s", m.streamSeq, m.subject)
		}
		if m.msgID != b.MsgID() {
			t.Errorf("message %d: Nats-Msg-Id %q for batch %s", m.streamSeq, m.msgID, b.MsgID())
		}
		if err := b.Verify(k.dev.PublicKey); err != nil {
			t.Errorf("message %d: %v", m.streamSeq, err)
		}
		if seen[m.msgID] {
			repeats++
			if exact {
				t.Errorf("batch %s stored twice", m.msgID)
			}
			continue
		}
		seen[m.msgID] = true
		for s := b.FirstSeq(); s <= b.Head.Seq; s++ {
			if id, ok := idOf[s]; ok && id != m.msgID {
				t.Errorf("record %d sent in batches %s and %s", s, id, m.msgID)
			}
			idOf[s] = m.msgID
		}
		if b.FirstSeq() <= last {
			continue // a resend after a later batch: same id, checked above
		}
		if b.FirstSeq() != last+1 {
			t.Errorf("batch %s follows record %d: gap", m.msgID, last)
		} else if last > 0 && !bytes.Equal(b.Prev[:], head[:]) {
			t.Errorf("batch %s does not chain to the batch before", m.msgID)
		}
		last, head = b.Head.Seq, b.Head.Hash
	}
	if last != uint64(n) || len(idOf) != n {
		t.Errorf("stream holds records up to %d (%d distinct), want 1..%d", last, len(idOf), n)
	}
	return repeats
}

// logBuffer is a concurrency-safe log destination.
type logBuffer struct{ logtest.Buffer }

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(l, nil)) }
