package syncbench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/kiosk/enroll"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/ingest"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// Sizes of the long benchmarks; the defaults are issue 3's.
var (
	flagCatchUp = flag.Int("syncbench.catchup", 100_000, "records buffered in the kiosk for BenchmarkCatchUp")
	flagKiosks  = flag.Int("syncbench.kiosks", 1000, "simulated kiosks for BenchmarkIngestKiosks")
	flagLoad    = flag.Duration("syncbench.load", 27*time.Second, "how long BenchmarkIngestKiosks publishes")
	flagWarmup  = flag.Duration("syncbench.warmup", 3*time.Second, "start of BenchmarkIngestKiosks' measured window")
	flagConns   = flag.Int("syncbench.conns", 4, "NATS connections of the simulated kiosks")
	flagRawMsgs = flag.Int("syncbench.rawmsgs", 1000, "64 KiB messages BenchmarkBaselineRawPublish publishes per iteration")
	flagBacklog = flag.Int("syncbench.backlog", 512, "batches waiting in the stream at which the simulated kiosks pause")
)

// BenchmarkBaselineOpen is the crypto limit of the central: checkin.Open
// of sealed personal parts on all cores. Ingest opens every sealed part
// before storing it, so no ingest can store faster than this.
func BenchmarkBaselineOpen(b *testing.B) {
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		b.Fatal(err)
	}
	sealed := sealPool(b, keys.SealingPublicKey(), 1024)
	pub, priv := keys.SealingPublicKey(), keys.SealingPrivateKey()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := mrand.IntN(len(sealed))
		for pb.Next() {
			if _, err := checkin.Open(sealed[i%len(sealed)], pub, priv); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	rate := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(rate, "records/s")
	setOpenLimit(rate, b.N)
}

// rawStream is configured like the check-in stream (ingest.EnsureStream):
// file storage, work queue, the same limits and duplicate window.
const rawStream = "SYNCBENCH_RAW"

// BenchmarkBaselineRawPublish is the transport's limit: JetStream
// publishes of 64 KiB messages (random bytes, as in uplink's
// BenchmarkRawPublish) to the central's own embedded server (sync_interval
// always: each PubAck is an fsync), to a stream configured like
// ANSHIM_CHECKINS, as the central's NATS user. window=1 waits for each
// PubAck; window=8 keeps 8 in flight, as the kiosk's uplink does. Each
// iteration publishes -syncbench.rawmsgs messages (1,000 = 64 MB), so
// that even -benchtime 1x measures a throughput, not one round trip.
func BenchmarkBaselineRawPublish(b *testing.B) {
	c := startCentral(b)
	nc := c.conn(b, "raw-publish")
	ctx := context.Background()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8))
	if err != nil {
		b.Fatal(err)
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       rawStream,
		Subjects:   []string{"syncbench.raw.>"},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.WorkQueuePolicy,
		Discard:    jetstream.DiscardNew,
		MaxAge:     28 * 24 * time.Hour,
		MaxBytes:   -1,
		MaxMsgSize: ingest.MaxMsgSize,
		Duplicates: ingest.DuplicateWindow,
		Replicas:   1,
	})
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 64<<10)
	rand.Read(data)
	var id atomic.Int64
	for _, window := range []int{1, 8} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			subject := fmt.Sprintf("syncbench.raw.v.k%d", window)
			msgs := b.N * *flagRawMsgs
			b.SetBytes(int64(len(data) * *flagRawMsgs))
			b.ResetTimer()
			start := time.Now()
			for range msgs {
				opt := jetstream.WithMsgID(fmt.Sprint("raw/", id.Add(1)))
				if window == 1 {
					if _, err := js.Publish(ctx, subject, data, opt); err != nil {
						b.Fatal(err)
					}
					continue
				}
				if _, err := js.PublishAsync(subject, data, opt, jetstream.WithStallWait(time.Minute)); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
				b.Fatal("PubAcks missing after a minute")
			}
			elapsed := time.Since(start)
			b.StopTimer()
			mbps := float64(msgs) * float64(len(data)) / 1e6 / elapsed.Seconds()
			b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(mbps, "MB/s")
			b.ReportMetric(float64(msgs), "msgs")
			if window == 8 {
				setRawPublish(mbps, msgs)
			}
		})
	}
}

// BenchmarkCatchUp is a kiosk back online after an outage: one enrolled
// kiosk (kiosk/enroll against the central's HTTP API) with N records in its
// outbox (real sealed parts from checkin.Sealer, a pool of 16,384 distinct
// ones; appended by 64 goroutines so that commits group as at a busy
// venue), started with kiosk.Run (fake scanner, real uplink with its
// defaults: 256 KiB batches, window 8), timed from kiosk.Run until every
// record is stored at the central and acknowledged out of the kiosk's
// outbox.
//
// Metrics: records/s; its ratio to the opening limit measured right
// before and right after the timed part (x-open-limit, goal ≥ 0.5; the
// cores are shared, so this bracket is the fairer baseline) and to
// BenchmarkBaselineOpen's (x-open-baseline); acked-s, when the outbox was
// empty (the stream had everything), and stored-s, when the central had
// stored the last record; uplink-MB/s, the batch bytes sent until acked-s,
// and its ratio to BenchmarkBaselineRawPublish/window=8; the CPU used by
// the process and by the whole machine (other work on the shared cores).
func BenchmarkCatchUp(b *testing.B) {
	b.StopTimer()
	n := *flagCatchUp
	limit := openingLimit(b)
	for range b.N {
		b.StopTimer()
		c := startCentral(b)
		dir := enrollKiosk(b, c, "v-catchup")
		dev, err := kiosk.LoadDevice(dir)
		if err != nil {
			b.Fatal(err)
		}
		fillOutbox(b, dir, dev, n, 16384)
		outboxSize := fileSize(b, filepath.Join(dir, kiosk.FileOutbox))
		wireBytes := n * (2 + recordSize(b, dev))

		hooked := make(chan uplink.Outbox, 1)
		klog := newWarnLog("kiosk")
		env := kiosk.Env{
			Log:      klog.logger(),
			Scanners: []scanner.Scanner{scannertest.New("bench")},
			Uplink:   func(cfg *uplink.Config) { hooked <- cfg.Outbox },
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		br := bracket{before: measureOpen(b, 2*time.Second)}
		stopProfile := startProfile(b, "catchup")
		b.StartTimer()
		t0, use := time.Now(), startUsage()
		go func() { done <- kiosk.Run(ctx, kiosk.Config{Data: dir, Feedback: "none", NATSInsecure: true}, env) }()
		var ob uplink.Outbox
		select {
		case ob = <-hooked:
		case err := <-done:
			b.Fatalf("kiosk.Run: %v", err)
		case <-time.After(30 * time.Second):
			b.Fatal("the kiosk's uplink did not start")
		}
		started := time.Since(t0)
		var acked, stored time.Duration
		lastLog := t0
		for acked == 0 || stored == 0 {
			time.Sleep(10 * time.Millisecond)
			now := time.Since(t0)
			pending, err := ob.Pending()
			if err != nil {
				b.Fatal(err)
			}
			t := c.totals(b)
			if acked == 0 && pending == 0 {
				acked = now
			}
			if stored == 0 && t.records >= uint64(n) {
				stored = now
			}
			if time.Since(lastLog) >= 2*time.Second {
				lastLog = time.Now()
				progressf("catch-up %5.1fs: stored %d of %d (%.0f/s), kiosk pending %d", now.Seconds(), t.records, n,
					float64(t.records)/now.Seconds(), pending)
			}
			if now > 5*time.Minute {
				b.Fatalf("catch-up not done after %v: stored %d, pending %d", now, t.records, pending)
			}
		}
		elapsed := time.Since(t0)
		cores, machine := use.cores()
		b.StopTimer()
		stopProfile()
		cancel()
		if err := <-done; err != nil {
			b.Fatalf("kiosk.Run: %v", err)
		}
		t := c.totals(b)
		if t.records != uint64(n) || t.last != uint64(n) || t.quarantined != 0 || t.breaks != 0 {
			b.Fatalf("central after the catch-up: %+v, want %d records and nothing quarantined", t, n)
		}
		br.after = measureOpen(b, 2*time.Second)
		rate := float64(n) / elapsed.Seconds()
		progressf("catch-up of %d records: %.2fs (uplink started after %v, outbox empty at %.2fs, all stored at %.2fs): %.0f records/s = %.2f × the opening limit %v, %.2f × BenchmarkBaselineOpen's %.0f/s; outbox %.1f MB; CPU: this process %.2f, whole machine %.2f of %d cores",
			n, elapsed.Seconds(), started.Round(time.Millisecond), acked.Seconds(), stored.Seconds(), rate, rate/br.mean(), br, rate/limit, limit,
			mb(uint64(outboxSize)), cores, machine, runtime.NumCPU())
		b.ReportMetric(rate, "records/s")
		b.ReportMetric(br.mean(), "open-limit/s")
		b.ReportMetric(rate/br.mean(), "x-open-limit")
		b.ReportMetric(rate/limit, "x-open-baseline")
		b.ReportMetric(acked.Seconds(), "acked-s")
		b.ReportMetric(stored.Seconds(), "stored-s")
		b.ReportMetric(cores, "cpu-cores")
		b.ReportMetric(machine, "machine-cores")
		// The uplink's own rate: batch bytes into the stream until the
		// outbox was empty (while the central was already opening records
		// on both cores), next to the raw publish baseline.
		upMBps := float64(wireBytes) / 1e6 / acked.Seconds()
		b.ReportMetric(upMBps, "uplink-MB/s")
		if raw := rawPublishMBps(); raw > 0 {
			b.ReportMetric(upMBps/raw, "x-raw-publish")
		}
	}
}

// recordSize returns the size of one of dev's canonical records with a
// sealed part (all have the same size).
func recordSize(tb testing.TB, dev *kiosk.Device) int {
	r := checkin.Record{Device: dev.ID, Seq: 1, Venue: dev.Venue, Wall: time.Now(), Quality: checkin.Unsynced,
		Mono: time.Hour, Kind: checkin.Entry, Sealed: make([]byte, checkin.SealedLen)}
	raw, err := r.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return len(raw)
}

// enrollKiosk enrolls a kiosk of a new venue with `kiosk enroll`'s code
// against the central's HTTP API and returns its data directory.
func enrollKiosk(tb testing.TB, c *centralEnv, venue string) string {
	tb.Helper()
	ctx := context.Background()
	if _, err := c.s.AddVenue(ctx, venue, "Cafe "+venue); err != nil {
		tb.Fatal(err)
	}
	tok, err := c.s.NewToken(ctx, venue)
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(tb.TempDir(), "kiosk")
	if _, err := enroll.Enroll(ctx, enroll.Options{Central: c.s.HTTPURL(), Token: tok, Dir: dir, BundleSHA256: c.s.BundleSHA256()}); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// fillOutbox appends n check-ins to the kiosk's outbox from 64
// goroutines, so that commits group as at a busy venue. The sealed parts
// are real (checkin.Sealer to the bundle's sealing key): a pool of
// distinct ones, reused round-robin when n is larger — opening one costs
// the central the same, and sealing 100,000 takes longer than the
// catch-up.
func fillOutbox(tb testing.TB, dir string, dev *kiosk.Device, n, distinct int) {
	tb.Helper()
	bundle, err := province.LoadBundle(filepath.Join(dir, kiosk.FileBundle))
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Now()
	pool := sealPool(tb, bundle.SealingPublicKey(), min(n, distinct))
	ob, err := kiosk.OpenOutbox(filepath.Join(dir, kiosk.FileOutbox), dev.PrivateKey())
	if err != nil {
		tb.Fatal(err)
	}
	const workers = 64
	clock := kiosk.NewSystemClock()
	var count atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(3 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				progressf("filling the outbox: %d of %d", count.Load(), n)
			}
		}
	}()
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				e := kiosk.Entry{At: clock.Now(), Kind: checkin.Entry, Sealed: pool[i%len(pool)]}
				rand.Read(e.Tag[:])
				if _, err := ob.Append(context.Background(), e); err != nil {
					tb.Error(err)
					return
				}
				count.Add(1)
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := ob.Close(); err != nil {
		tb.Fatal(err)
	}
	if tb.Failed() {
		tb.FailNow()
	}
	progressf("outbox filled with %d records (%d distinct sealed parts) in %v", n, len(pool), time.Since(t0).Round(time.Millisecond))
}

// simKiosk is a simulated enrolled kiosk: its keys and its chain.
type simKiosk struct {
	id, venue, subject string
	key                ed25519.PrivateKey
	seq                uint64
	hash               checkin.Hash
	quality            checkin.TimeQuality
	boot               [16]byte
	booted             time.Time
}

// next returns the kiosk's next batch of n records, as its outbox and
// uplink would make it: canonical records chained from the last, the head
// signed by the device, the send stamp.
func (k *simKiosk) next(n int, sealed [][]byte, now time.Time) ([]byte, string, error) {
	b := wire.Batch{Device: k.id, Venue: k.venue, Prev: k.hash, Records: make([][]byte, 0, n)}
	for i := range n {
		k.seq++
		ago := time.Duration(n-i) * 5 * time.Second
		r := checkin.Record{
			Device: k.id, Seq: k.seq, Venue: k.venue,
			Wall: now.Add(-ago).UTC(), Quality: k.quality, Boot: k.boot, Mono: now.Sub(k.booted) - ago,
			Kind: checkin.Entry, Sealed: sealed[(int(k.seq)*7919+len(k.id))%len(sealed)],
		}
		raw, err := r.MarshalBinary()
		if err != nil {
			return nil, "", err
		}
		k.hash = checkin.Next(k.hash, raw)
		b.Records = append(b.Records, raw)
	}
	b.Head = checkin.SignHead(k.key, k.id, k.seq, k.hash)
	b.Sent = wire.Stamp{Wall: now.UTC(), Quality: k.quality, Boot: k.boot, Mono: now.Sub(k.booted)}
	data, err := b.MarshalBinary()
	return data, b.MsgID(), err
}

// enrollSim enrolls n simulated kiosks at n/5 venues with central.Enroll,
// each with its own Ed25519 device key and NATS user nkey.
func enrollSim(tb testing.TB, c *centralEnv, n int) []*simKiosk {
	tb.Helper()
	ctx := context.Background()
	venues := max(n/5, 1)
	for v := range venues {
		id := fmt.Sprintf("v-%04d", v)
		if _, err := c.s.AddVenue(ctx, id, "Venue "+id); err != nil {
			tb.Fatal(err)
		}
	}
	ks := make([]*simKiosk, n)
	for i := range n {
		pub, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		nk, err := nkeys.CreateUser()
		if err != nil {
			tb.Fatal(err)
		}
		npub, _ := nk.PublicKey()
		tok, err := c.s.NewToken(ctx, fmt.Sprintf("v-%04d", i%venues))
		if err != nil {
			tb.Fatal(err)
		}
		e, err := c.s.Enroll(ctx, wire.EnrollRequest{Token: tok, DeviceKey: base64.StdEncoding.EncodeToString(pub), NKey: npub})
		if err != nil {
			tb.Fatal(err)
		}
		k := &simKiosk{id: e.Device, venue: e.Venue, subject: e.Subject, key: key, hash: checkin.Genesis(e.Device),
			quality: checkin.NTPSynced, booted: time.Now().Add(-time.Duration(1+i%48) * time.Hour)}
		rand.Read(k.boot[:])
		if i%10 == 9 {
			k.quality = checkin.Unsynced // one in ten without NTP: the central corrects its clock
		}
		ks[i] = k
	}
	return ks
}

// BenchmarkIngestKiosks is the central under the load of 1,000 kiosks
// catching up after a short outage: each enrolled (central.Enroll, own
// Ed25519 and nkey), each sending signed, chained batches of 10–50 records
// (real sealed parts from a pool of 8,192 made by checkin.Sealer; one
// kiosk in ten with an unsynced clock), round after round, for 27 s. The
// simulated kiosks publish over 4 NATS connections with the central's
// credentials (a device's own user may only publish on its own subject, so
// 1,000 devices would take 1,000 connections; the ingest path does not
// depend on the publisher's user). They pause while 512 batches wait in
// the stream, so the rate measured is what the central sustains, NATS
// receiving and ingest together, with work always waiting.
//
// Metrics: check-ins stored per second at the central (store totals via
// central.Devices, from 3 s in to the end of publishing); its ratio to
// the opening limit measured right before and after (x-open-limit) and to
// BenchmarkBaselineOpen's (x-open-baseline); the memory of the process —
// the central runs in the benchmark's process, so runtime.MemStats
// (HeapInuse, Sys) and /proc/self/status (VmRSS, RssAnon) are the
// central's plus the small load generator's (4 connections, the sealed
// pool); peaks sampled every second, and rss-idle-MB before the load; the
// CPU used by the process and by the whole machine; devices-call-ms, the
// mean time of central.Devices (what every /metrics scrape calls). On
// bbolt (store=bolt) and on PostgreSQL (store=pg: a database of its own on
// ANSHIM_TEST_PG's server).
func BenchmarkIngestKiosks(b *testing.B) {
	for _, backend := range []string{"bolt", "pg"} {
		b.Run("store="+backend, func(b *testing.B) { ingestKiosks(b, backend) })
	}
}

// ingestKiosks is BenchmarkIngestKiosks on one store backend.
func ingestKiosks(b *testing.B, backend string) {
	b.StopTimer()
	nk := *flagKiosks
	limit := openingLimit(b)
	for range b.N {
		b.StopTimer()
		c := startCentralStore(b, backend)
		t0 := time.Now()
		ks := enrollSim(b, c, nk)
		progressf("enrolled %d kiosks in %v", nk, time.Since(t0).Round(time.Millisecond))
		pool := sealPool(b, c.keys.SealingPublicKey(), 8192)
		br := bracket{before: measureOpen(b, 2*time.Second)}
		res := runLoad(b, c, ks, pool)
		br.after = measureOpen(b, 2*time.Second)
		progressf("ingest from %d kiosks: %.0f check-ins/s = %.2f × the opening limit %v, %.2f × BenchmarkBaselineOpen's %.0f/s",
			nk, res.rate, res.rate/br.mean(), br, res.rate/limit, limit)
		b.ReportMetric(res.rate, "records/s")
		b.ReportMetric(br.mean(), "open-limit/s")
		b.ReportMetric(res.rate/br.mean(), "x-open-limit")
		b.ReportMetric(res.rate/limit, "x-open-baseline")
		b.ReportMetric(res.batchRate, "batches/s")
		b.ReportMetric(mb(res.peak.heapInuse), "heap-inuse-MB")
		b.ReportMetric(mb(res.peak.sys), "sys-MB")
		b.ReportMetric(mb(res.peak.rss), "rss-MB")
		b.ReportMetric(mb(res.peak.rssAnon), "rss-anon-MB")
		b.ReportMetric(mb(res.idle.rss), "rss-idle-MB")
		b.ReportMetric(res.cores, "cpu-cores")
		b.ReportMetric(res.machine, "machine-cores")
		b.ReportMetric(res.devicesMs, "devices-call-ms")
	}
}

type loadResult struct {
	rate, batchRate, cores, machine, devicesMs float64
	idle, peak                                 mem
}

func runLoad(b *testing.B, c *centralEnv, ks []*simKiosk, pool [][]byte) loadResult {
	conns := *flagConns
	debug.FreeOSMemory() // give back what earlier benchmarks of this process left
	idle := readMem()
	progressf("idle with %d kiosks enrolled: %v", len(ks), idle)

	mon := c.conn(b, "monitor")
	mjs, err := jetstream.New(mon)
	if err != nil {
		b.Fatal(err)
	}
	stream, err := mjs.Stream(context.Background(), wire.Stream)
	if err != nil {
		b.Fatal(err)
	}

	var (
		paused            atomic.Bool
		pubRecs, pubBatch atomic.Int64 // acknowledged by the stream
		pubErrs           atomic.Int64
		maxBacklog        atomic.Uint64
	)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	// The gate: publishing pauses while the stream holds too many batches.
	gateDone := make(chan struct{})
	go func() {
		defer close(gateDone)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			info, err := stream.Info(ctx)
			if err != nil {
				continue
			}
			msgs := info.State.Msgs
			if msgs > maxBacklog.Load() {
				maxBacklog.Store(msgs)
			}
			paused.Store(msgs >= uint64(*flagBacklog))
		}
	}()

	b.StartTimer()
	start := time.Now()
	var wg, acks sync.WaitGroup
	for ci := range conns {
		nc := c.conn(b, fmt.Sprintf("kiosks-%d", ci))
		js, err := jetstream.New(nc,
			jetstream.WithPublishAsyncMaxPending(64),
			jetstream.WithPublishAsyncTimeout(30*time.Second),
			jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
				if pubErrs.Add(1) <= 5 {
					progressf("publish %s failed: %v", m.Header.Get(jetstream.MsgIDHeader), err)
				}
			}))
		if err != nil {
			b.Fatal(err)
		}
		var mine []*simKiosk
		for i := ci; i < len(ks); i += conns {
			mine = append(mine, ks[i])
		}
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(ci), 3))
			for ctx.Err() == nil {
				for _, k := range mine {
					for paused.Load() && ctx.Err() == nil {
						time.Sleep(5 * time.Millisecond)
					}
					if ctx.Err() != nil {
						break
					}
					n := 10 + rng.IntN(41)
					data, id, err := k.next(n, pool, time.Now())
					if err != nil {
						b.Error(err)
						return
					}
					f, err := js.PublishMsgAsync(&nats.Msg{Subject: k.subject, Data: data},
						jetstream.WithMsgID(id), jetstream.WithExpectStream(wire.Stream),
						jetstream.WithStallWait(time.Minute)) // the window is full while the server fsyncs: wait
					if err != nil {
						b.Error(err)
						return
					}
					acks.Go(func() {
						select {
						case <-f.Ok():
							pubRecs.Add(int64(n))
							pubBatch.Add(1)
						case <-f.Err():
						}
					})
				}
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
				b.Error("PubAcks missing a minute after the load")
			}
		})
	}

	// The measurement: store totals at the warm-up mark and at the end,
	// progress and memory every second.
	var peak mem
	var atWarm, atEnd totals
	var tWarm, tEnd time.Time
	var use usage
	var cores, machine float64
	var devicesTime time.Duration // central.Devices, as /metrics calls it
	var devicesCalls int
	var stopProfile func()
	warm, load := *flagWarmup, *flagLoad
	prev, prevT := c.totals(b), time.Now()
	tick := time.NewTicker(time.Second)
	for now := range tick.C {
		el := now.Sub(start)
		m := readMem()
		peak.max(m)
		t0 := time.Now()
		t := c.totals(b)
		devicesTime += time.Since(t0)
		devicesCalls++
		if tWarm.IsZero() && el >= warm {
			atWarm, tWarm, use = t, now, startUsage()
			stopProfile = startProfile(b, "ingest")
			traceFor(b, 5*time.Second)
		}
		if int(el/time.Second)%3 == 0 {
			progressf("ingest %4.1fs: stored %d (%.0f/s now), published %d, stream backlog max %d, %v",
				el.Seconds(), t.records, float64(t.records-prev.records)/now.Sub(prevT).Seconds(),
				pubRecs.Load(), maxBacklog.Load(), m)
			prev, prevT = t, now
		}
		if el >= load {
			atEnd, tEnd = t, now
			cores, machine = use.cores()
			if stopProfile != nil {
				stopProfile()
			}
			break
		}
	}
	tick.Stop()
	b.StopTimer()
	stop()
	wg.Wait()
	acks.Wait()
	<-gateDone

	// Drain: everything the stream acknowledged gets stored, nothing is
	// quarantined, no chain breaks. The backlog left (up to 512 batches)
	// takes a while on a loaded machine: give up only after 60 s without
	// progress.
	deadline := time.Now().Add(60 * time.Second)
	var t totals
	for {
		last := t.records
		t = c.totals(b)
		if t.records >= uint64(pubRecs.Load()) || time.Now().After(deadline) {
			break
		}
		if t.records > last {
			deadline = time.Now().Add(60 * time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if t.records != uint64(pubRecs.Load()) || t.quarantined != 0 || t.breaks != 0 || pubErrs.Load() != 0 {
		b.Fatalf("after the load: stored %d of %d published, %d quarantined, %d breaks, %d publish errors",
			t.records, pubRecs.Load(), t.quarantined, t.breaks, pubErrs.Load())
	}
	d := tEnd.Sub(tWarm).Seconds()
	rate := float64(atEnd.records-atWarm.records) / d
	batches := float64(pubBatch.Load()) / tEnd.Sub(start).Seconds()
	progressf("ingest from %d kiosks: %.0f check-ins/s stored over %.1fs; %d published in %.1fs, %.0f batches/s, stream backlog max %d; CPU: this process %.2f, whole machine %.2f of %d cores; idle %v; peak %v",
		len(ks), rate, d, pubRecs.Load(), tEnd.Sub(start).Seconds(), batches, maxBacklog.Load(), cores, machine, runtime.NumCPU(), idle, peak)
	progressf("central.Devices() with %d devices (what /metrics calls per scrape): %.1f ms on average under load",
		len(ks), devicesTime.Seconds()*1000/float64(devicesCalls))
	return loadResult{rate: rate, batchRate: batches, idle: idle, peak: peak, cores: cores, machine: machine,
		devicesMs: devicesTime.Seconds() * 1000 / float64(devicesCalls)}
}

// fileSize returns the size of a file.
func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}
