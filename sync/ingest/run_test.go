package ingest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/internal/natstest"
	"github.com/anshim/anshim/sync/wire"
)

// startNATS starts an embedded NATS server with JetStream in a temporary
// directory on a random port, and connects to it.
func startNATS(t *testing.T) jetstream.JetStream {
	t.Helper()
	_, js := connect(t, startNATSServer(t).ClientURL())
	return js
}

// connect connects to a NATS server until the test ends.
func connect(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return natstest.Connect(t, url)
}

// startNATSServer starts an embedded NATS server with JetStream in a
// temporary directory on a random port.
func startNATSServer(t *testing.T) *server.Server {
	t.Helper()
	return natstest.StartJetStream(t).Server()
}

// publish publishes a batch as the kiosk's uplink does, with its
// de-duplication id, and returns the PubAck.
func publish(t *testing.T, js jetstream.JetStream, k *fakeKiosk, first, last uint64) *jetstream.PubAck {
	t.Helper()
	b := k.batch(first, last, sentStamp())
	ack, err := js.Publish(context.Background(), wire.CheckInSubject(k.venue, k.device), encode(t, b), jetstream.WithMsgID(b.MsgID()))
	if err != nil {
		t.Fatalf("publish %s: %v", b.MsgID(), err)
	}
	return ack
}

// runIngest runs in until the test ends, and checks that it returns nil
// promptly once canceled.
func runIngest(t *testing.T, in *Ingester) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}

// eventually polls cond until it holds or 15 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// drained reports whether every message was acked: the stream is a work
// queue, so acked messages leave it.
func drained(t *testing.T, js jetstream.JetStream) bool {
	t.Helper()
	s, err := js.Stream(context.Background(), wire.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs == 0
}

func testConfig(js jetstream.JetStream) func(*Config) {
	return func(c *Config) {
		c.JS = js
		c.RetryDelay = 100 * time.Millisecond
		c.AckWait = 5 * time.Second
		c.FetchBatch = 8
	}
}

// Ensure that Run stores the batches published on the stream, quarantines
// a malformed one, and acks them all; a re-published batch is a duplicate
// both for JetStream and for the store.
func TestRun_StoresAndAcks(t *testing.T) {
	js := startNATS(t)
	ctx := context.Background()
	if err := EnsureStream(ctx, js, StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureStream(ctx, js, StreamConfig{}); err != nil {
		t.Fatalf("EnsureStream on an existing stream: %v", err)
	}
	f := newFixture(t, nil, testConfig(js))
	k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(10)
	runIngest(t, f.in)

	publish(t, js, k, 1, 4)
	publish(t, js, k, 5, 10)
	if ack := publish(t, js, k, 1, 4); !ack.Duplicate {
		t.Error("JetStream did not see the re-published batch as a duplicate")
	}
	if _, err := js.Publish(ctx, wire.CheckInSubject("v-1", "k-1"), []byte("not a batch"), jetstream.WithMsgID("junk")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "10 records stored, 1 quarantined and the stream drained", func() bool {
		st, err := f.store.State(ctx, "k-1")
		return err == nil && st.Records == 10 && st.Quarantined == 1 && drained(t, js)
	})
	st, _ := f.store.State(ctx, "k-1")
	if st.LastSeq != 10 || st.LastHash != k.hashes[10] || st.Breaks != 0 {
		t.Fatalf("state %+v", st)
	}

	// Past the duplicate window, or from another central worker: the
	// store skips it.
	b := k.batch(3, 6, sentStamp())
	if _, err := js.Publish(ctx, wire.CheckInSubject("v-1", "k-1"), encode(t, b), jetstream.WithMsgID("resent-"+b.MsgID())); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the resent batch skipped", func() bool { return f.metrics.Duplicates.Load() == 4 && drained(t, js) })

	cons, err := js.Consumer(ctx, wire.Stream, "central")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumPending != 0 || info.Config.AckPolicy != jetstream.AckExplicitPolicy || info.Config.MaxDeliver != -1 {
		t.Fatalf("consumer: ack pending %d, pending %d, config %+v", info.NumAckPending, info.NumPending, info.Config)
	}
	if got := f.metrics.Batches.Load(); got != 4 {
		t.Fatalf("Batches metric %d, want 4", got)
	}
}

// Ensure that after a store error the message is redelivered, not acked,
// and stored once in the end, in order — whether the failed write was
// persisted or not — and that a message failing for good goes to
// quarantine after PoisonAfter deliveries.
func TestRun_RedeliveryAfterStoreError(t *testing.T) {
	tests := []struct {
		name        string
		failures    int64 // negative: every Ingest fails
		persisted   bool
		wantRecords uint64
		wantPoison  int
	}{
		{name: "failed and not persisted", failures: 2, wantRecords: 8},
		{name: "failed but persisted", failures: 1, persisted: true, wantRecords: 8},
		{name: "failing for good", failures: -1, wantPoison: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := startNATS(t)
			fs := &faultStore{persisted: tt.persisted}
			fs.failures.Store(tt.failures)
			f := newFixture(t, func(s store.Store) store.Store { fs.Store = s; return fs }, func(c *Config) {
				testConfig(js)(c)
				c.PoisonAfter = 3
			})
			k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(8)
			ctx := context.Background()
			if err := EnsureStream(ctx, js, StreamConfig{}); err != nil {
				t.Fatal(err)
			}
			publish(t, js, k, 1, 4)
			publish(t, js, k, 5, 8)
			runIngest(t, f.in)

			eventually(t, "the stream drained", func() bool { return drained(t, js) })
			st, err := f.store.State(ctx, "k-1")
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != tt.wantRecords || st.Breaks != 0 {
				t.Fatalf("state %+v; want %d records, no break (batches handled in order)\n%s", st, tt.wantRecords, f.logs)
			}
			if got := f.metrics.Retries.Load(); got == 0 {
				t.Fatal("no retry counted")
			}
			if got := f.metrics.Quarantined(ReasonStoreError); got != uint64(tt.wantPoison) {
				t.Fatalf("%d batches quarantined after store errors, want %d", got, tt.wantPoison)
			}
			qs, err := f.store.Quarantined(ctx, "k-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(qs) != tt.wantPoison {
				t.Fatalf("quarantine %+v, want %d store-error entries", qs, tt.wantPoison)
			}
			for _, q := range qs {
				if q.Reason != ReasonStoreError || len(q.Payload) == 0 {
					t.Fatalf("quarantine entry %+v", q)
				}
			}
		})
	}
}

// Ensure that the package's Run needs a JetStream context and a store.
func TestRun_Invalid(t *testing.T) {
	keys := newKeys(t, "jeju")
	f := newFixture(t, nil, nil)
	if err := Run(context.Background(), Config{Store: f.store, SealPub: keys.SealingPublicKey(), SealPriv: keys.SealingPrivateKey()}); err == nil {
		t.Error("Run without JetStream succeeded")
	}
	if err := Run(context.Background(), Config{}); err == nil {
		t.Error("Run without a store succeeded")
	}
}

// Ensure that batches of one device that reach the stream out of order
// (the first failed and was resent after the second went through) are
// ingested cleanly with GapWait: no break, no quarantine.
func TestRun_GapWait(t *testing.T) {
	js := startNATS(t)
	f := newFixture(t, nil, func(c *Config) {
		testConfig(js)(c)
		c.Now = time.Now
		c.GapWait = 20 * time.Second
	})
	k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(6)
	ctx := context.Background()
	if err := EnsureStream(ctx, js, StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	publish(t, js, k, 4, 6)
	runIngest(t, f.in)
	time.Sleep(1500 * time.Millisecond) // the later batch is held back meanwhile
	publish(t, js, k, 1, 3)
	eventually(t, "the stream drained", func() bool { return drained(t, js) })
	st, err := f.store.State(ctx, "k-1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 6 || st.Breaks != 0 || st.Quarantined != 0 {
		t.Fatalf("state %+v; want 6 records, no break\n%s", st, f.logs)
	}
}

// Ensure that Run updates an existing durable consumer to its AckWait: a
// central upgraded from the 30 s default must not keep it.
func TestRun_UpdatesConsumerAckWait(t *testing.T) {
	js := startNATS(t)
	ctx := context.Background()
	if err := EnsureStream(ctx, js, StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	old := (&Config{Durable: "central", AckWait: 30 * time.Second, MaxAckPending: 256}).consumerConfig()
	if _, err := js.CreateConsumer(ctx, wire.Stream, old); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, nil, func(c *Config) { c.JS = js })
	runIngest(t, f.in)
	eventually(t, "the consumer's ack wait updated", func() bool {
		cons, err := js.Consumer(ctx, wire.Stream, "central")
		if err != nil {
			return false
		}
		info, err := cons.Info(ctx)
		return err == nil && info.Config.AckWait == DefaultAckWait
	})
}

// slowStore makes every Ingest take delay.
type slowStore struct {
	store.Store
	delay time.Duration
	calls atomic.Int64
}

func (s *slowStore) Ingest(ctx context.Context, b store.Batch) (int, error) {
	s.calls.Add(1)
	time.Sleep(s.delay)
	return s.Store.Ingest(ctx, b)
}

// Ensure that a batch whose handling outlasts the ack wait (a slow commit,
// or a wait behind other batches of its device) is not redelivered: Run
// reports progress until it acks.
func TestRun_ProgressOnSlowWork(t *testing.T) {
	js := startNATS(t)
	ss := &slowStore{delay: 1500 * time.Millisecond}
	f := newFixture(t, func(s store.Store) store.Store { ss.Store = s; return ss }, func(c *Config) {
		testConfig(js)(c)
		c.AckWait = 500 * time.Millisecond
	})
	k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(6)
	ctx := context.Background()
	if err := EnsureStream(ctx, js, StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	publish(t, js, k, 1, 3)
	publish(t, js, k, 4, 6)
	runIngest(t, f.in)
	eventually(t, "the stream drained", func() bool { return drained(t, js) })
	time.Sleep(time.Second) // a redelivery would show by now
	st, err := f.store.State(ctx, "k-1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 6 || st.Breaks != 0 {
		t.Fatalf("state %+v", st)
	}
	if b, d, n := f.metrics.Batches.Load(), f.metrics.Duplicates.Load(), ss.calls.Load(); b != 2 || d != 0 || n != 2 {
		t.Errorf("%d batches handled, %d duplicate records, %d commits; want 2, 0, 2 (no redelivery)\n%s", b, d, n, f.logs)
	}
}

// countingStore counts the Ingest calls that reach the store.
type countingStore struct {
	store.Store
	n atomic.Int64
}

func (s *countingStore) Ingest(ctx context.Context, b store.Batch) (int, error) {
	s.n.Add(1)
	return s.Store.Ingest(ctx, b)
}

// Ensure that of two centrals on one consumer only the pinned one ingests,
// and that the other takes over within about the pinned TTL once the
// first stops.
func TestRun_OneCentralAtATime(t *testing.T) {
	js := startNATS(t)
	const ttl = time.Second
	var a *countingStore
	f := newFixture(t, func(st store.Store) store.Store { a = &countingStore{Store: st}; return a }, func(c *Config) {
		testConfig(js)(c)
		c.PinnedTTL = ttl
	})
	k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(40)
	b := &countingStore{Store: f.store}
	cfgB := f.in.cfg
	cfgB.Store = b
	inB, err := New(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	ctxA, stopA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() { doneA <- f.in.Run(ctxA) }()
	defer stopA()
	for i := uint64(0); i < 10; i++ {
		publish(t, js, k, i+1, i+1)
	}
	eventually(t, "the first central to drain the stream", func() bool { return drained(t, js) })
	runIngest(t, inB)
	time.Sleep(300 * time.Millisecond) // B's requests are waiting
	for i := uint64(10); i < 20; i++ {
		publish(t, js, k, i+1, i+1)
	}
	eventually(t, "the stream drained with both running", func() bool { return drained(t, js) })
	if n := b.n.Load(); n != 0 {
		t.Fatalf("the standby central ingested %d batches while the pinned one ran", n)
	}
	if n := a.n.Load(); n != 20 {
		t.Errorf("the pinned central ingested %d batches, want 20", n)
	}
	stopA()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	for i := uint64(20); i < 30; i++ {
		publish(t, js, k, i+1, i+1)
	}
	eventually(t, "the standby to take over", func() bool { return drained(t, js) })
	took := time.Since(stopped)
	if n := b.n.Load(); n != 10 {
		t.Errorf("after the takeover the standby ingested %d batches, want 10", n)
	}
	if took > ttl+fetchWait+2*time.Second {
		t.Errorf("takeover after %v, want within the pinned TTL %v and one pull request", took, ttl)
	}
	if got := storedSeqs(t, f.store, "k-1"); len(got) != 30 {
		t.Errorf("stored %d records, want 30", len(got))
	}
	t.Logf("the standby took over %v after the pinned central stopped", took.Round(time.Millisecond))
}
