package uplink_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// watchedOutbox wraps the real outbox: it can hold reads until released,
// and lets a test check each Ack.
type watchedOutbox struct {
	uplink.Outbox
	mu        sync.Mutex
	reads     int
	holdAfter int           // reads after this many wait for release (0: never)
	release   chan struct{} // closed to let held reads go
	onAck     func(seq uint64)
	ids       map[uint64]string // first sequence → Nats-Msg-Id of every batch read
	rereads   int               // batches read again (resends)
	changed   []string          // batches read again with other boundaries
}

func (w *watchedOutbox) ReadWireBatch(after uint64, maxBytes int) (*wire.Batch, error) {
	w.mu.Lock()
	w.reads++
	hold := w.holdAfter > 0 && w.reads > w.holdAfter
	w.mu.Unlock()
	if hold {
		<-w.release
	}
	b, err := w.Outbox.ReadWireBatch(after, maxBytes)
	if b != nil {
		w.mu.Lock()
		if w.ids == nil {
			w.ids = map[uint64]string{}
		}
		if id, ok := w.ids[b.FirstSeq()]; ok {
			w.rereads++
			if id != b.MsgID() {
				w.changed = append(w.changed, id+" then "+b.MsgID())
			}
		}
		w.ids[b.FirstSeq()] = b.MsgID()
		w.mu.Unlock()
	}
	return b, err
}

func (w *watchedOutbox) Ack(seq uint64) (int, error) {
	if w.onAck != nil {
		w.onAck(seq)
	}
	return w.Outbox.Ack(seq)
}

func (w *watchedOutbox) readCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reads
}

// Ensure that every record arrives once and in order, in verifiable,
// chained batches, and leaves the outbox only after the stream has it.
func TestUplink_SendsEverythingOnce(t *testing.T) {
	srv := startNATS(t, nil)
	_, js := srv.connect(nil)
	stream := createStream(t, js)
	k := newKiosk(t)
	const n = 3000
	k.fill(t, n)

	subject := wire.CheckInSubject(testVenue, k.dev.ID)
	acks := 0
	w := &watchedOutbox{Outbox: k.ob, onAck: func(seq uint64) {
		acks++
		m, err := stream.GetLastMsgForSubject(context.Background(), subject)
		if err != nil {
			t.Errorf("Ack(%d) with nothing in the stream: %v", seq, err)
			return
		}
		b, _, err := wire.Decode(m.Data)
		if err != nil || b.Head.Seq < seq {
			t.Errorf("Ack(%d) before the stream holds it (last stored batch ends at %d, %v)", seq, b.Head.Seq, err)
		}
	}}
	var logs logBuffer
	cfg := k.config(srv.URL, logs.logger())
	cfg.Outbox = w
	cfg.MaxBatchBytes = 16 << 10 // many batches: the window is exercised
	cfg.Window = 4
	cfg.CatchUp = 100
	u, _ := run(t, cfg)

	waitFor(t, 20*time.Second, "the outbox to empty", func() bool { return pending(t, k.ob) == 0 })
	msgs := readStream(t, stream)
	checkStream(t, k, msgs, n, true)
	if len(msgs) < 10 {
		t.Errorf("%d batches for %d records of at most 16 KiB each", len(msgs), n)
	}
	for _, m := range msgs {
		if sz := len(mustMarshal(t, m.batch)); sz > cfg.MaxBatchBytes {
			t.Errorf("batch %s is %d bytes, over %d", m.msgID, sz, cfg.MaxBatchBytes)
		}
	}
	if base, _, _ := k.ob.Base(); base != n {
		t.Errorf("outbox base %d, want %d", base, n)
	}
	waitFor(t, 5*time.Second, "the status", func() bool { st := u.Status(); return st.Acked == n && st.InFlight == 0 })
	st := u.Status()
	if !st.Connected || st.Pending != 0 || st.LastAck.IsZero() || st.CatchingUp {
		t.Errorf("status %+v", st)
	}
	if acks == 0 || acks > len(msgs) {
		t.Errorf("%d outbox acks for %d batches", acks, len(msgs))
	}
	waitFor(t, 5*time.Second, "the caught-up log line", func() bool { return strings.Contains(logs.String(), `"msg":"sync caught up"`) })
	if !strings.Contains(logs.String(), `"msg":"sync catch-up","component":"sync","pending":3000`) ||
		strings.Count(logs.String(), `"msg":"sync progress"`) < 5 {
		t.Errorf("no catch-up and progress lines in the log:\n%s", logs.String())
	}
}

// Ensure that a record committed while the uplink idles goes out promptly
// on the wake-up, without waiting for the poll.
func TestUplink_WakesOnCommit(t *testing.T) {
	srv := startNATS(t, nil)
	_, js := srv.connect(nil)
	stream := createStream(t, js)
	k := newKiosk(t)
	wake := make(chan struct{}, 1)
	cfg := k.config(srv.URL, nil)
	cfg.Wake, cfg.Poll = wake, time.Hour
	run(t, cfg)
	time.Sleep(100 * time.Millisecond) // let it go idle
	for i := 1; i <= 3; i++ {
		k.fill(t, 1)
		t0 := time.Now()
		wake <- struct{}{}
		waitFor(t, 2*time.Second, "the record to be acknowledged", func() bool { return pending(t, k.ob) == 0 })
		if d := time.Since(t0); d > time.Second {
			t.Errorf("record %d took %s", i, d)
		}
	}
	checkStream(t, k, readStream(t, stream), 3, true)
}

// Ensure that the server stopped mid-stream and restarted on the same port
// and store loses nothing: the uplink reconnects by itself, resends what
// was in flight with the same Nats-Msg-Id, and the outbox ends empty with
// its base at the last record.
func TestUplink_ServerRestart(t *testing.T) {
	srv := startNATS(t, nil)
	_, js := srv.connect(nil)
	createStream(t, js)
	k := newKiosk(t)
	const n = 5000
	k.fill(t, n)
	w := &watchedOutbox{Outbox: k.ob, holdAfter: 10, release: make(chan struct{})}
	var logs logBuffer
	cfg := k.config(srv.URL, logs.logger())
	cfg.Outbox = w
	cfg.MaxBatchBytes = 8 << 10
	cfg.Window = 4
	u, _ := run(t, cfg)

	waitFor(t, 10*time.Second, "10 batches read", func() bool { return w.readCount() > 10 })
	srv.stop() // mid-stream: batches in flight, their PubAcks lost or unread
	close(w.release)
	waitFor(t, 5*time.Second, "the uplink to see the disconnect", func() bool { return !u.Status().Connected })
	before := pending(t, k.ob)
	if before == 0 || before == n {
		t.Logf("pending %d of %d at the stop", before, n)
	}
	time.Sleep(300 * time.Millisecond)
	if p := pending(t, k.ob); p != before {
		t.Errorf("records left the outbox while the server was down: %d → %d", before, p)
	}
	if st := u.Status(); st.LastError == "" {
		t.Errorf("no error in the status while disconnected: %+v", st)
	}

	srv.restart()
	waitFor(t, 30*time.Second, "the outbox to empty after the restart", func() bool { return pending(t, k.ob) == 0 })
	_, js = srv.connect(nil)
	stream, err := js.Stream(context.Background(), wire.Stream)
	if err != nil {
		t.Fatal(err)
	}
	repeats := checkStream(t, k, readStream(t, stream), n, false)
	w.mu.Lock()
	t.Logf("%d batches read again and resent, %d acknowledged as duplicates, %d stored again", w.rereads, u.Status().Resent, repeats)
	if w.rereads == 0 || len(w.changed) > 0 {
		t.Errorf("resent batches: %d; with other boundaries (a new Nats-Msg-Id): %v", w.rereads, w.changed)
	}
	w.mu.Unlock()
	if base, _, _ := k.ob.Base(); base != n {
		t.Errorf("outbox base %d, want %d", base, n)
	}
	if st, err := k.ob.Verify(k.dev.PublicKey); err != nil || !st.ChainOK || st.Records != 0 {
		t.Errorf("outbox after the restart: %+v, %v", st, err)
	}
	if !strings.Contains(logs.String(), `"msg":"sync reconnected"`) {
		t.Errorf("no reconnect in the log:\n%s", logs.String())
	}
}

// Ensure that a batch stored by the stream whose PubAck never reached the
// kiosk stays in the outbox, goes again with the same Nats-Msg-Id, and is
// acknowledged then as a duplicate: stored once, removed once.
func TestUplink_LostPubAck(t *testing.T) {
	srv := startNATS(t, nil)
	_, js := srv.connect(nil)
	stream := createStream(t, js)
	k := newKiosk(t)
	const n = 400
	k.fill(t, n)
	cfg := k.config(srv.URL, nil)
	cfg.MaxBatchBytes = 8 << 10
	cfg.AckTimeout = time.Nanosecond // every PubAck comes too late
	_, stop := run(t, cfg)
	waitFor(t, 5*time.Second, "a batch in the stream", func() bool {
		info, err := stream.Info(context.Background())
		return err == nil && info.State.Msgs > 0
	})
	time.Sleep(100 * time.Millisecond) // resent a few times
	stop()
	if p := pending(t, k.ob); p == n {
		t.Log("every PubAck was late, as intended")
	}

	cfg.AckTimeout = 2 * time.Second
	u, _ := run(t, cfg)
	waitFor(t, 10*time.Second, "the outbox to empty", func() bool { return pending(t, k.ob) == 0 })
	checkStream(t, k, readStream(t, stream), n, true)
	if st := u.Status(); st.Resent == 0 {
		t.Errorf("no batch acknowledged as a duplicate: %+v", st)
	}
}

// Ensure that batches without a PubAck stay in the outbox — no stream for
// the subject (no responders), a subscriber that never answers (ack
// timeout), a stream other than ANSHIM_CHECKINS — and go out once the
// stream is there.
func TestUplink_NotAcknowledged_KeepsRecords(t *testing.T) {
	tests := []struct {
		name  string
		fault func(t *testing.T, nc *nats.Conn, js jetstream.JetStream, subject string) (undo func())
		want  string
	}{
		{"no stream", func(*testing.T, *nats.Conn, jetstream.JetStream, string) func() { return func() {} }, "no stream listens on"},
		{"no answer", func(t *testing.T, nc *nats.Conn, _ jetstream.JetStream, subject string) func() {
			sub, err := nc.Subscribe(subject, func(*nats.Msg) {})
			if err != nil {
				t.Fatal(err)
			}
			nc.Flush()
			return func() { sub.Unsubscribe(); nc.Flush() }
		}, "no PubAck within"},
		{"wrong stream", func(t *testing.T, _ *nats.Conn, js jetstream.JetStream, subject string) func() {
			ctx := context.Background()
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{subject}}); err != nil {
				t.Fatal(err)
			}
			return func() { js.DeleteStream(ctx, "OTHER") }
		}, "expected stream does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startNATS(t, nil)
			nc, js := srv.connect(nil)
			k := newKiosk(t)
			const n = 500
			k.fill(t, n)
			undo := tt.fault(t, nc, js, wire.CheckInSubject(testVenue, k.dev.ID))
			cfg := k.config(srv.URL, nil)
			cfg.AckTimeout = 300 * time.Millisecond
			cfg.MaxBatchBytes = 8 << 10
			u, _ := run(t, cfg)

			waitFor(t, 5*time.Second, "an error in the status", func() bool { return strings.Contains(u.Status().LastError, tt.want) })
			time.Sleep(700 * time.Millisecond) // several attempts
			if p := pending(t, k.ob); p != n {
				t.Fatalf("%d of %d records left the outbox without a PubAck", n-p, n)
			}
			if base, _, _ := k.ob.Base(); base != 0 {
				t.Fatalf("outbox base moved to %d", base)
			}

			undo()
			stream := createStream(t, js)
			waitFor(t, 10*time.Second, "the outbox to empty once the stream exists", func() bool { return pending(t, k.ob) == 0 })
			checkStream(t, k, readStream(t, stream), n, false)
		})
	}
}

// Ensure that a kiosk whose first connect fails (the central is away at
// boot) keeps trying and sends once the central comes up.
func TestUplink_CentralAwayAtStart(t *testing.T) {
	srv := startNATS(t, nil)
	_, js := srv.connect(nil)
	createStream(t, js)
	srv.stop()
	k := newKiosk(t)
	k.fill(t, 100)
	u, _ := run(t, k.config(srv.URL, nil))
	time.Sleep(200 * time.Millisecond)
	if st := u.Status(); st.Connected || st.Pending != 100 {
		t.Fatalf("status with the central away: %+v", st)
	}
	srv.restart()
	waitFor(t, 10*time.Second, "the outbox to empty", func() bool { return pending(t, k.ob) == 0 })
}

// Ensure that the uplink stops promptly when its context ends, also while
// batches are in flight to a server that does not answer.
func TestUplink_StopsPromptly(t *testing.T) {
	srv := startNATS(t, nil)
	nc, _ := srv.connect(nil)
	k := newKiosk(t)
	k.fill(t, 200)
	sub, _ := nc.Subscribe(wire.CheckInSubject(testVenue, k.dev.ID), func(*nats.Msg) {}) // never answers
	defer sub.Unsubscribe()
	cfg := k.config(srv.URL, nil)
	cfg.AckTimeout = time.Minute
	cfg.ShutdownGrace = 200 * time.Millisecond
	u, stop := run(t, cfg)
	waitFor(t, 5*time.Second, "batches in flight", func() bool { return u.Status().InFlight > 0 })
	t0 := time.Now()
	stop()
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("stopping took %s", d)
	}
	if p := pending(t, k.ob); p != 200 {
		t.Errorf("%d records left without a PubAck", 200-p)
	}
}

// Ensure that a device connects with its nkey and only the permissions the
// central gives it: its subject, the KV API calls, its own inbox.
func TestUplink_DevicePermissions(t *testing.T) {
	adminSeed, adminPub := userKey(t)
	devSeed, devPub := userKey(t)
	k := newKiosk(t)
	srv := startNATS(t, []*server.NkeyUser{
		{Nkey: adminPub},
		{Nkey: devPub, Permissions: devicePermissions(testVenue, k.dev.ID)},
	})
	_, js := srv.connect(adminSeed)
	stream := createStream(t, js)
	k.fill(t, 300)
	cfg := k.config(srv.URL, nil)
	cfg.Seed = devSeed
	cfg.MaxBatchBytes = 8 << 10
	run(t, cfg)
	waitFor(t, 10*time.Second, "the outbox to empty", func() bool { return pending(t, k.ob) == 0 })
	checkStream(t, k, readStream(t, stream), 300, true)

	// A key that is not a user seed is refused before connecting.
	_, err := uplink.New(uplink.Config{Outbox: k.ob, Device: k.dev.ID, Venue: k.dev.Venue, URLs: []string{srv.URL}, Seed: []byte("SUnot-a-seed")})
	if err == nil {
		t.Error("a malformed seed was accepted")
	}
}

func mustMarshal(t testing.TB, b *wire.Batch) []byte {
	t.Helper()
	data, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}
