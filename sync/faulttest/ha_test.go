package faulttest

import (
	"context"
	"crypto/ed25519"
	cryptorand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/kiosk"
	anledger "github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// haCluster is the world of the high-availability tests: province keys,
// three nats-server processes clustered on loopback routes (JetStream on
// disk, sync_interval always), one PostgreSQL database and several
// `central serve` processes sharing all of it.
type haCluster struct {
	t        testing.TB
	dir      string
	keys     *province.Keys
	keysDir  string
	dsn      string
	nkeyFile string // the centrals' shared NATS user
	nats     []*haNode
	urls     []string
	centrals []*haNode
}

// newHACluster starts nNATS clustered nats-servers (1 or 3) and nCentral
// centrals on a new database, the first central writing the users file
// that every server includes. Replicas are 3 on three servers.
func newHACluster(t testing.TB, nNATS, nCentral int) *haCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a NATS cluster, centrals and PostgreSQL sessions for minutes: not with -short")
	}
	h := &haCluster{t: t, dir: t.TempDir(), dsn: pgtest.NewDatabase(t)}
	keys, err := province.Generate(cryptorand.Reader, "hatest")
	if err != nil {
		t.Fatal(err)
	}
	h.keys, h.keysDir, h.nkeyFile = keys, filepath.Join(h.dir, "province"), filepath.Join(h.dir, "central.nk")
	if err := keys.Save(h.keysDir); err != nil {
		t.Fatal(err)
	}
	// Ports first: every server's routes name all three.
	client, route := make([]int, nNATS), make([]int, nNATS)
	for i := range nNATS {
		client[i], route[i] = freePort(t), freePort(t)
		h.urls = append(h.urls, fmt.Sprintf("nats://127.0.0.1:%d", client[i]))
	}
	for i := range nNATS {
		name := fmt.Sprintf("nats%d", i+1)
		text := fmt.Sprintf("server_name: %q\nlisten: \"127.0.0.1:%d\"\nmax_payload: 1MB\n"+
			"jetstream {\n  store_dir: %q\n  sync_interval: always\n}\n", name, client[i], filepath.Join(h.dir, name, "js"))
		if nNATS > 1 {
			var routes []string
			for j := range nNATS {
				routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", route[j]))
			}
			text += fmt.Sprintf("cluster {\n  name: anshim\n  listen: \"127.0.0.1:%d\"\n  routes: [%s]\n}\n", route[i], strings.Join(routes, ", "))
		}
		text += fmt.Sprintf("include %q\n", "central1/"+central.DevicesConfFile)
		conf := filepath.Join(h.dir, name+".conf")
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		h.nats = append(h.nats, &haNode{tb: t, name: name, bin: bins.nats, args: []string{"-c", conf}, ready: "Server is ready", log: newLineLog(t, name)})
	}
	t.Logf("nats-server (built from %s): %d nodes at %s", bins.natsFrom, nNATS, strings.Join(h.urls, ","))
	replicas := min(nNATS, 3)
	for i := range nCentral {
		name := fmt.Sprintf("central%d", i+1)
		data := filepath.Join(h.dir, name)
		cn := &haNode{tb: t, name: name, bin: bins.central, data: data, ready: `"msg":"central started"`, log: newLineLog(t, name),
			args: []string{"serve", "--data", data, "--keys", h.keysDir, "--http", "127.0.0.1:0",
				"--store", h.dsn, "--nats", strings.Join(h.urls, ","), "--nats-nkey", h.nkeyFile,
				"--replicas", strconv.Itoa(replicas), "--nats-insecure"}}
		h.centrals = append(h.centrals, cn)
	}
	// The first central writes the users file (its NATS user first), then
	// waits for NATS; the servers include that file.
	first := h.centrals[0]
	mark := first.start()
	conf := filepath.Join(first.data, central.DevicesConfFile)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(conf); err == nil {
			break
		}
		if time.Now().After(deadline) || !first.running() {
			t.Fatalf("the first central wrote no %s", conf)
		}
	}
	var wg sync.WaitGroup
	for _, n := range h.nats {
		wg.Go(func() { n.waitReady(n.start()) })
	}
	wg.Wait()
	first.waitReady(mark)
	// Every central needs the same day keys (the ratchet is
	// deterministic from there): the others get a copy of the first's.
	dk, err := os.ReadFile(filepath.Join(first.data, central.DayKeysFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, cn := range h.centrals[1:] {
		if err := os.MkdirAll(cn.data, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cn.data, central.DayKeysFile), dk, 0o600); err != nil {
			t.Fatal(err)
		}
		cn.waitReady(cn.start())
	}
	return h
}

// simKiosk is a simulated enrolled kiosk: its keys, its chain and its own
// NATS connection to every server of the cluster (it fails over between
// them). It publishes with the centrals' NATS user: a device's own user
// would need the users file reloaded on every server after each
// enrollment, and the ingest path does not depend on the publisher's
// user (the device is the subject's).
type simKiosk struct {
	id, venue, subject string
	key                ed25519.PrivateKey
	seq                uint64 // last sequence number made
	acked              uint64 // last sequence number PubAcked
	hash               checkin.Hash
	boot               [16]byte
	booted             time.Time
	nc                 *nats.Conn
	js                 jetstream.JetStream
}

// enrollSims registers n venues and enrolls a simulated kiosk at each
// through cn's HTTP API (POST /v1/enroll), then connects them.
func (h *haCluster) enrollSims(cn *haNode, n int) []*simKiosk {
	h.t.Helper()
	kp := h.centralUser()
	pub, _ := kp.PublicKey()
	var ks []*simKiosk
	for i := range n {
		venue := fmt.Sprintf("venue-%d", i+1)
		h.addVenue(cn, venue)
		var tok struct{ Token string }
		if err := cn.api("POST", "/v1/venues/"+venue+"/tokens", nil, &tok); err != nil {
			h.t.Fatal(err)
		}
		dpub, key, err := ed25519.GenerateKey(cryptorand.Reader)
		if err != nil {
			h.t.Fatal(err)
		}
		nk, _ := nkeys.CreateUser()
		npub, _ := nk.PublicKey()
		var e wire.Enrollment
		if err := cn.api("POST", "/v1/enroll", wire.EnrollRequest{Token: tok.Token, DeviceKey: base64.StdEncoding.EncodeToString(dpub), NKey: npub}, &e); err != nil {
			h.t.Fatal(err)
		}
		if strings.Join(e.NATSURLs, ",") != strings.Join(h.urls, ",") {
			h.t.Fatalf("enrollment gave the kiosk NATS URLs %v, want the cluster's %v", e.NATSURLs, h.urls)
		}
		k := &simKiosk{id: e.Device, venue: e.Venue, subject: e.Subject, key: key, hash: checkin.Genesis(e.Device),
			booted: time.Now().Add(-time.Hour)}
		cryptorand.Read(k.boot[:])
		// The URL list as enrolled: the kiosk fails over between them.
		k.nc, err = nats.Connect(strings.Join(e.NATSURLs, ","), nats.Name("sim-"+k.id), nats.Nkey(pub, kp.Sign),
			nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(true))
		if err != nil {
			h.t.Fatal(err)
		}
		h.t.Cleanup(k.nc.Close)
		if k.js, err = jetstream.New(k.nc); err != nil {
			h.t.Fatal(err)
		}
		ks = append(ks, k)
	}
	return ks
}

// enrollRealKiosks registers a venue per kiosk and enrolls n kiosk
// processes through cn with `kiosk enroll` (their NATS URLs are the
// cluster's, as enrollment gives them), then has every NATS server reload
// the users file cn rewrote, so that they can connect.
func (h *haCluster) enrollRealKiosks(t *testing.T, cn *haNode, n int) []*kioskNode {
	t.Helper()
	sum, err := h.keys.Bundle().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	// kioskNode's world: nats non-nil says plaintext NATS.
	c := &cluster{t: t, dir: h.dir, keys: h.keys, keysDir: h.keysDir, nats: &natsNode{}}
	var ks []*kioskNode
	for i := range n {
		name := fmt.Sprintf("kiosk%d", i+1)
		venue := "venue-real-" + strconv.Itoa(i+1)
		h.addVenue(cn, venue)
		var tok struct{ Token string }
		if err := cn.api("POST", "/v1/venues/"+venue+"/tokens", nil, &tok); err != nil {
			t.Fatal(err)
		}
		data := filepath.Join(h.dir, name)
		if _, err := runCmd(t, bins.kiosk, "enroll", "--token", tok.Token, "--central", cn.http, "--data", data, "--bundle-sha256", sum); err != nil {
			t.Fatal(err)
		}
		dev, err := kiosk.LoadDevice(data)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, &kioskNode{t: t, c: c, name: name, data: data, device: dev.ID, venue: dev.Venue, log: newLineLog(t, name)})
	}
	for _, nn := range h.nats {
		mark := nn.log.len()
		if _, err := runCmd(t, bins.nats, "--signal", "reload="+strconv.Itoa(nn.p.pid())); err != nil {
			t.Fatal(err)
		}
		if _, ok := nn.log.wait(mark, 30*time.Second, nn.p.done, contains("Reloaded server configuration")); !ok {
			t.Fatalf("%s did not reload its configuration", nn.name)
		}
	}
	return ks
}

// addVenue registers an approved venue through cn.
func (h *haCluster) addVenue(cn *haNode, venue string) {
	h.t.Helper()
	reg := registry.Registration{ID: venue, Name: "Venue " + venue, BusinessNumber: testBusinessNumber(venue), Address: "제주시 중앙로 1",
		Category: registry.Other, Location: registry.JejuCity, OwnerPhone: "064-710-1234", Status: registry.StatusApproved}
	if err := cn.api("POST", "/v1/venues", reg, nil); err != nil {
		h.t.Fatal(err)
	}
}

// centralUser reads the centrals' shared NATS user.
func (h *haCluster) centralUser() nkeys.KeyPair {
	seed, err := os.ReadFile(h.nkeyFile)
	if err != nil {
		h.t.Fatal(err)
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(seed))))
	if err != nil {
		h.t.Fatal(err)
	}
	return kp
}

// next makes the kiosk's next batch of n records, as its outbox and
// uplink would: canonical records chained from the last, the head signed
// by the device, the send stamp.
func (k *simKiosk) next(n int, sealed [][]byte, now time.Time) ([]byte, string, error) {
	b := wire.Batch{Device: k.id, Venue: k.venue, Prev: k.hash, Records: make([][]byte, 0, n)}
	for i := range n {
		k.seq++
		r := checkin.Record{Device: k.id, Seq: k.seq, Venue: k.venue, Wall: now.UTC(), Quality: checkin.NTPSynced,
			Boot: k.boot, Mono: now.Sub(k.booted), Kind: checkin.Entry, Sealed: sealed[(int(k.seq)*7919+i)%len(sealed)]}
		raw, err := r.MarshalBinary()
		if err != nil {
			return nil, "", err
		}
		k.hash = checkin.Next(k.hash, raw)
		b.Records = append(b.Records, raw)
	}
	b.Head = checkin.SignHead(k.key, k.id, k.seq, k.hash)
	b.Sent = wire.Stamp{Wall: now.UTC(), Quality: checkin.NTPSynced, Boot: k.boot, Mono: now.Sub(k.booted)}
	data, err := b.MarshalBinary()
	return data, b.MsgID(), err
}

// send publishes data until JetStream acknowledges it (a timeout or an
// error is retried with the same bytes and Nats-Msg-Id, as the uplink
// does) or ctx ends, and returns how long the kiosk waited.
func (k *simKiosk) send(ctx context.Context, data []byte, id string) (time.Duration, error) {
	start := time.Now()
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := k.js.Publish(pctx, k.subject, data, jetstream.WithMsgID(id), jetstream.WithExpectStream(wire.Stream))
		cancel()
		if err == nil {
			return time.Since(start), nil
		}
		if ctx.Err() != nil {
			return time.Since(start), ctx.Err()
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

// load runs simulated kiosks sending a batch of 1–4 records every period
// each, one batch at a time, until stop; it keeps the longest wait for a
// PubAck.
type load struct {
	mu       sync.Mutex
	stall    time.Duration
	stallAt  time.Time
	stallDev string
	batches  int
	records  int
}

func (l *load) run(ctx context.Context, ks []*simKiosk, sealed [][]byte, period time.Duration) {
	var wg sync.WaitGroup
	for i, k := range ks {
		wg.Go(func() {
			sleepCtx(ctx, time.Duration(i)*period/time.Duration(len(ks))) // spread the kiosks
			t := time.NewTicker(period)
			defer t.Stop()
			for ctx.Err() == nil {
				n := 1 + int(k.seq%4)
				data, id, err := k.next(n, sealed, time.Now())
				if err != nil {
					panic(err)
				}
				sent := time.Now()
				// Once made, a batch is sent until acked, also after stop:
				// its records are in the kiosk's chain.
				wait, err := k.send(context.Background(), data, id)
				if err != nil {
					panic(err)
				}
				l.mu.Lock()
				k.acked = k.seq
				l.batches++
				l.records += n
				if wait > l.stall {
					l.stall, l.stallAt, l.stallDev = wait, sent, k.id
				}
				l.mu.Unlock()
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
}

// witness collects every signed checkpoint the centrals hand out, as the
// kiosks see them: the answers of every central to
// anshim.ledger.checkpoint (all replies, not just the first) and the
// checkpoints of the receipts published on anshim.receipts.>.
type witness struct {
	mu          sync.Mutex
	checkpoints map[string]bool // signed notes
	receipts    []anledger.Receipt
	perLeaf     map[int64]int // receipts published per leaf index
}

func (h *haCluster) startWitness(ctx context.Context) *witness {
	h.t.Helper()
	kp := h.centralUser()
	pub, _ := kp.PublicKey()
	nc, err := nats.Connect(strings.Join(h.urls, ","), nats.Name("witness"), nats.Nkey(pub, kp.Sign),
		nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(nc.Close)
	w := &witness{checkpoints: map[string]bool{}, perLeaf: map[int64]int{}}
	inbox := nats.NewInbox()
	if _, err := nc.Subscribe(inbox, func(m *nats.Msg) {
		var r wire.LedgerReply
		if json.Unmarshal(m.Data, &r) == nil && r.Checkpoint != "" {
			w.mu.Lock()
			w.checkpoints[r.Checkpoint] = true
			w.mu.Unlock()
		}
	}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := nc.Subscribe(wire.ReceiptsPrefix+".>", func(m *nats.Msg) {
		var r anledger.Receipt
		if json.Unmarshal(m.Data, &r) == nil {
			w.mu.Lock()
			w.receipts = append(w.receipts, r)
			w.checkpoints[r.Checkpoint] = true
			w.perLeaf[r.Index]++
			w.mu.Unlock()
		}
	}); err != nil {
		h.t.Fatal(err)
	}
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			nc.PublishRequest(wire.SubjectCheckpointRequest, inbox, []byte("{}"))
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// nodeOf returns the NATS server that the kiosk process logged last that
// it is connected to.
func (h *haCluster) nodeOf(k *kioskNode) *haNode {
	lines := k.log.grep(0, func(s string) bool {
		return strings.Contains(s, `"msg":"sync connected"`) || strings.Contains(s, `"msg":"sync reconnected"`)
	})
	if len(lines) == 0 {
		return nil
	}
	var l struct{ Server string }
	if json.Unmarshal([]byte(lines[len(lines)-1]), &l) != nil {
		return nil
	}
	for i, u := range h.urls {
		if strings.TrimPrefix(u, "nats://") == strings.TrimPrefix(l.Server, "nats://") {
			return h.nats[i]
		}
	}
	return nil
}

// leader returns the running central that signs the ledger now, by its
// log; it fails the test if several say so.
func (h *haCluster) leader() *haNode {
	var found *haNode
	for _, cn := range h.centrals {
		if cn.running() && cn.signsNow() {
			if found != nil {
				h.t.Errorf("%s and %s both sign the ledger", found.log.name, cn.log.name)
			}
			found = cn
		}
	}
	return found
}

// signsNow reports whether the central's current run logged that it took
// the ledger signer's lease and not since that it lost it.
func (c *haNode) signsNow() bool {
	from := 0
	for i, l := range c.log.grep(0, func(string) bool { return true }) {
		if strings.HasPrefix(l, "=== ") {
			from = i
		}
	}
	took, lost := -1, -1
	for i, l := range c.log.grep(from, func(string) bool { return true }) {
		switch {
		case strings.Contains(l, "ledger signer: this central now signs"):
			took = i
		case strings.Contains(l, "ledger signer: lease lost"):
			lost = i
		}
	}
	return took >= 0 && took > lost
}

// latestCheckpoint reads the store's latest checkpoint size (0 if none).
func latestCheckpoint(ctx context.Context, db *pgx.Conn) int64 {
	var n int64
	db.QueryRow(ctx, "SELECT coalesce(max(size), 0) FROM ledger_checkpoints").Scan(&n)
	return n
}

// TestHA is issue 17's fault test: a three-node NATS cluster (R3),
// two centrals on one PostgreSQL database, 50 simulated kiosks sending a
// batch of 1–4 records every second each. While they send: SIGKILL the
// NATS node that leads the check-in stream and restart it; SIGKILL the
// central that signs the ledger (the other takes the lease over) and
// restart it; cut every session of the centrals with
// pg_terminate_backend. Then: every acknowledged check-in is stored
// exactly once, the batches of each device are in the ledger in sequence
// order with no gap, nothing was quarantined or flagged, every checkpoint
// handed to kiosks (both centrals' answers and all receipts) is of the
// final tree — no two disagree — every receipt proves its leaf, and
// `anshim ledger verify` passes against either central. It logs the
// longest publish-to-PubAck wait of a kiosk and the time from the
// signer's death to the next checkpoint.
func TestHA(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster, two centrals and kiosks for minutes: not with -short")
	}
	t.Parallel() // beside the other scenarios that run in parallel: the package stays within make test's timeout
	h := newHACluster(t, 3, 2)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, h.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)

	ks := h.enrollSims(h.centrals[0], 50)
	// Two kiosk processes besides: their uplink fails over between the
	// enrolled URLs, their witness checks every receipt's checkpoint.
	real := h.enrollRealKiosks(t, h.centrals[0], 2)
	startAll(real, nil)
	rl, ps := newLedger(), passes{h.keys.Signer()}
	sealed := sealedPool(t, h.keys.SealingPublicKey(), 256)
	wctx, wstop := context.WithCancel(ctx)
	defer wstop()
	w := h.startWitness(wctx)

	lctx, lstop := context.WithCancel(ctx)
	var l load
	var lwg sync.WaitGroup
	lwg.Go(func() { l.run(lctx, ks, sealed, time.Second) })
	sc := startScanning(real, ps, rl, 200*time.Millisecond)
	t0 := time.Now()
	at := func(d time.Duration) { sleepCtx(ctx, time.Until(t0.Add(d))) }

	// 1. The NATS node leading the stream: SIGKILL, back 10 s later.
	at(8 * time.Second)
	mon := ks[0].js
	info, err := func() (*jetstream.StreamInfo, error) {
		s, err := mon.Stream(ctx, wire.Stream)
		if err != nil {
			return nil, err
		}
		return s.Info(ctx)
	}()
	if err != nil {
		t.Fatal(err)
	}
	victim := h.nats[0]
	if info.Cluster != nil {
		for i, n := range h.nats {
			if info.Cluster.Leader == fmt.Sprintf("nats%d", i+1) {
				victim = n
			}
		}
		t.Logf("stream %s: leader %s, replicas %d", wire.Stream, info.Cluster.Leader, len(info.Cluster.Replicas)+1)
	}
	if info.Config.Replicas != 3 {
		t.Errorf("stream %s has %d replicas, want 3", wire.Stream, info.Config.Replicas)
	}
	t.Logf("%v: SIGKILL %s (the stream's leader)", time.Since(t0).Round(time.Millisecond), victim.log.name)
	victim.kill()
	at(18 * time.Second)
	victim.waitReady(victim.start())
	t.Logf("%v: %s restarted", time.Since(t0).Round(time.Millisecond), victim.log.name)

	// 2. The central signing the ledger: SIGKILL; the other takes over.
	at(28 * time.Second)
	lead := h.leader()
	if lead == nil {
		t.Fatal("no central says it signs the ledger")
	}
	before := latestCheckpoint(ctx, db)
	killed := time.Now()
	lead.kill()
	t.Logf("%v: SIGKILL %s (the ledger signer; checkpoint size %d)", time.Since(t0).Round(time.Millisecond), lead.log.name, before)
	var takeover time.Duration
	for time.Since(killed) < 30*time.Second {
		if latestCheckpoint(ctx, db) > before {
			takeover = time.Since(killed)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if takeover == 0 {
		t.Errorf("no checkpoint within 30 s of the ledger signer's death")
	} else if takeover > 15*time.Second {
		t.Errorf("first checkpoint %v after the signer's death, want within 15 s", takeover)
	}
	var other *haNode
	for _, cn := range h.centrals {
		if cn != lead && cn.signsNow() {
			other = cn
		}
	}
	if other == nil {
		t.Errorf("no other central took the ledger signer's lease")
	}
	at(36 * time.Second)
	lead.waitReady(lead.start())
	t.Logf("%v: %s restarted", time.Since(t0).Round(time.Millisecond), lead.log.name)

	// 3. Every session of the centrals cut.
	at(44 * time.Second)
	var cut int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()) t`).Scan(&cut); err != nil {
		t.Fatal(err)
	}
	t.Logf("%v: pg_terminate_backend on %d sessions of the centrals", time.Since(t0).Round(time.Millisecond), cut)

	// 4. The NATS node a kiosk process is connected to: it fails over to
	// another of its enrolled URLs.
	at(48 * time.Second)
	if n := h.nodeOf(real[0]); n == nil {
		t.Errorf("%s logged no server it is connected to", real[0].name)
	} else {
		mark := real[0].log.len()
		n.kill()
		t.Logf("%v: SIGKILL %s (%s's server)", time.Since(t0).Round(time.Millisecond), n.name, real[0].name)
		if _, ok := real[0].log.wait(mark, 20*time.Second, nil, contains(`"msg":"sync reconnected"`)); !ok {
			t.Errorf("%s did not reconnect to another server within 20 s of its server's death", real[0].name)
		}
		n.waitReady(n.start())
		to := "?"
		if m := h.nodeOf(real[0]); m != nil {
			to = m.name
		}
		t.Logf("%v: %s restarted; %s reconnected to %s", time.Since(t0).Round(time.Millisecond), n.name, real[0].name, to)
	}

	at(56 * time.Second)
	lstop()
	lwg.Wait()
	scans := sc.stop(t)
	for _, k := range real {
		k.waitDrained(90 * time.Second)
	}
	t.Logf("kiosk processes: %d scans", scans)
	t.Logf("load: %d batches, %d records from %d kiosks in %v", l.batches, l.records, len(ks), time.Since(t0).Round(time.Millisecond))

	// Drain: every acked record stored.
	drained := time.Now()
	for {
		var pending int
		for _, k := range ks {
			var last int64
			db.QueryRow(ctx, "SELECT last_seq FROM device_states WHERE device = $1", []byte(k.id)).Scan(&last)
			if uint64(last) < k.acked {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Since(drained) > 60*time.Second {
			t.Fatalf("%d kiosks' acknowledged records not all stored 60 s after the load", pending)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("drained %v after the load", time.Since(drained).Round(time.Millisecond))
	// One more checkpoint of the whole tree, then the witness stops.
	var size int64
	db.QueryRow(ctx, "SELECT size FROM ledger_head").Scan(&size)
	for start := time.Now(); latestCheckpoint(ctx, db) < size; time.Sleep(200 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no checkpoint of the final tree (%d leaves) within 30 s", size)
		}
	}
	time.Sleep(1500 * time.Millisecond) // the last receipts and answers
	wstop()
	// The tree may have grown meanwhile (an event leaf, such as the signer's
	// lease): the witness's checkpoints are checked against the tree as it
	// is now that it has stopped.
	db.QueryRow(ctx, "SELECT size FROM ledger_head").Scan(&size)

	anshim := filepath.Join(h.dir, "anshim")
	if out, err := exec.Command("go", "build", "-o", anshim, "github.com/anshim/anshim/cmd/anshim").CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/anshim: %v\n%s", err, out)
	}
	h.verify(ctx, db, ks)
	h.verifyReal(ctx, db, real, rl)
	h.verifyWitness(ctx, w, size)
	for _, cn := range h.centrals {
		if cn.running() {
			out, err := runCmd(t, anshim, "ledger", "verify", "--central", cn.http, "--bundle", filepath.Join(h.keysDir, province.BundleFile))
			if err != nil {
				t.Errorf("anshim ledger verify against %s: %v", cn.log.name, err)
			} else {
				t.Logf("anshim ledger verify against %s: %s", cn.log.name, strings.TrimSpace(string(out)))
			}
		}
	}
	for _, cn := range h.centrals {
		for _, s := range []string{"ingest: batch does not continue", "ingest: batch quarantined", "ingest: records of a destroyed"} {
			if n := len(cn.log.grep(0, contains(s))); n > 0 {
				t.Errorf("%s logged %d lines %q", cn.log.name, n, s)
			}
		}
		t.Logf("%s: %d store errors (redelivered), %d batches held back after a gap, %d lease lines",
			cn.log.name, len(cn.log.grep(0, contains("ingest: store error"))),
			len(cn.log.grep(0, contains("ingest: batches held back"))), len(cn.log.grep(0, contains("ledger signer:"))))
	}
	t.Logf("FIGURES: longest publish-to-PubAck wait of a kiosk %v (at %v, device %s); first checkpoint %v after the signer's SIGKILL",
		l.stall.Round(time.Millisecond), l.stallAt.Sub(t0).Round(time.Millisecond), l.stallDev, takeover.Round(time.Millisecond))
	for _, cn := range h.centrals {
		if cn.running() {
			cn.stop()
		}
	}
}

// verify checks the database: every record each kiosk made up to its last
// acknowledged one is stored exactly once; each device's batch leaves are
// in the ledger in sequence order without gap or overlap; nothing is
// quarantined, no break counted.
func (h *haCluster) verify(ctx context.Context, db *pgx.Conn, ks []*simKiosk) {
	t := h.t
	for _, k := range ks {
		var n, distinct, lo, hi int64
		if err := db.QueryRow(ctx, "SELECT count(*), count(DISTINCT seq), coalesce(min(seq),0), coalesce(max(seq),0) FROM checkins WHERE device = $1",
			[]byte(k.id)).Scan(&n, &distinct, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		if n != distinct || uint64(n) != k.seq || lo != 1 || uint64(hi) != k.seq {
			t.Errorf("%s: %d records stored (%d distinct, seq %d-%d), want each of 1-%d once", k.id, n, distinct, lo, hi, k.seq)
		}
		rows, _ := db.Query(ctx, "SELECT first_seq, last_seq FROM ledger_batches WHERE device = $1 ORDER BY idx", []byte(k.id))
		var next int64 = 1
		_, err := pgx.ForEachRow(rows, []any{&lo, &hi}, func() error {
			if lo != next {
				return fmt.Errorf("ledger batch leaf %d-%d after %d", lo, hi, next-1)
			}
			next = hi + 1
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", k.id, err)
		} else if uint64(next-1) != k.seq {
			t.Errorf("%s: ledger batch leaves up to %d, want %d", k.id, next-1, k.seq)
		}
		var q, breaks int64
		db.QueryRow(ctx, "SELECT quarantined, breaks FROM device_states WHERE device = $1", []byte(k.id)).Scan(&q, &breaks)
		if q != 0 || breaks != 0 {
			t.Errorf("%s: quarantined %d, breaks %d; want none", k.id, q, breaks)
		}
	}
	var quarantined int64
	db.QueryRow(ctx, "SELECT count(*) FROM quarantine").Scan(&quarantined)
	if quarantined != 0 {
		t.Errorf("%d quarantine entries, want none", quarantined)
	}
	// Gapless ledger: every index below the head, once.
	var leaves, size, maxIdx int64
	db.QueryRow(ctx, "SELECT count(*), coalesce(max(idx), -1) FROM ledger_leaves").Scan(&leaves, &maxIdx)
	db.QueryRow(ctx, "SELECT size FROM ledger_head").Scan(&size)
	if leaves != size || maxIdx != size-1 {
		t.Errorf("ledger: %d leaves, highest index %d, head %d", leaves, maxIdx, size)
	}
}

// verifyWitness checks every checkpoint the witness saw against the final
// tree, as a kiosk would by consistency proofs: signed by the ledger key,
// no larger than the tree, its root the tree's at its size. So no two of
// them disagree. Every receipt's inclusion proof must verify.
func (h *haCluster) verifyWitness(ctx context.Context, w *witness, size int64) {
	t := h.t
	st, err := pgstore.Open(ctx, h.dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := h.keys.Bundle().NoteVerifier()
	if err != nil {
		t.Fatal(err)
	}
	hr := ledgerstore.HashReader(ctx, st)
	w.mu.Lock()
	defer w.mu.Unlock()
	roots := map[int64]tlog.Hash{}
	for msg := range w.checkpoints {
		cp, err := anledger.Open([]byte(msg), v)
		if err != nil {
			t.Errorf("checkpoint handed out: %v", err)
			continue
		}
		if cp.Size > size {
			t.Errorf("checkpoint of size %d beyond the tree's %d", cp.Size, size)
			continue
		}
		want, err := tlog.TreeHash(cp.Size, hr)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Hash != want {
			t.Errorf("checkpoint of size %d has root %v, the tree's is %v: a fork", cp.Size, cp.Hash, want)
		}
		if r, ok := roots[cp.Size]; ok && r != cp.Hash {
			t.Errorf("two checkpoints of size %d disagree", cp.Size)
		}
		roots[cp.Size] = cp.Hash
	}
	var bad, dup int
	for _, r := range w.receipts {
		cp, err := anledger.Open([]byte(r.Checkpoint), v)
		if err != nil {
			bad++
			continue
		}
		if tlog.CheckRecord(r.Proof, cp.Size, cp.Hash, r.Index, tlog.RecordHash([]byte(r.Leaf))) != nil {
			bad++
		}
	}
	for _, n := range w.perLeaf {
		if n > 1 {
			dup++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d receipts do not prove their leaf", bad, len(w.receipts))
	}
	if len(w.checkpoints) == 0 || len(w.receipts) == 0 {
		t.Errorf("the witness saw %d checkpoints and %d receipts; want some of each", len(w.checkpoints), len(w.receipts))
	}
	t.Logf("witness: %d distinct checkpoints, all of the final tree of %d leaves; %d receipts verified, %d leaves with more than one receipt",
		len(w.checkpoints), size, len(w.receipts), dup)
}

// sealedPool returns n real sealed personal parts, sealed to pub.
func sealedPool(t testing.TB, pub *[32]byte, n int) [][]byte {
	s := checkin.NewSealer(pub, 0, nil)
	defer s.Close()
	out := make([][]byte, n)
	for i := range out {
		p := checkin.Personal{PassKind: 1, Serial: uint32(i)}
		cryptorand.Read(p.Pseudonym[:])
		var err error
		if out[i], err = s.Seal(p); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// haNode is one process of the HA tests and benchmarks — a nats-server or
// a central — and its restarts.
type haNode struct {
	tb    testing.TB
	name  string
	bin   string
	args  []string
	ready string // in a line that says the run is ready
	log   *lineLog
	p     *proc
	runs  int
	// A central's data directory, and its HTTP API and admin token once
	// started.
	data, http, token string
}

// start starts a run and returns its log mark.
func (n *haNode) start() int {
	n.tb.Helper()
	n.runs++
	mark := n.log.len()
	n.p = startProc(n.tb, n.log, false, nil, n.bin, n.args...)
	return mark
}

// waitReady waits for the ready line of the run at mark; a central's
// gives its HTTP address.
func (n *haNode) waitReady(mark int) {
	n.tb.Helper()
	line, ok := n.log.wait(mark, 90*time.Second, n.p.done, contains(n.ready))
	if !ok {
		n.tb.Fatalf("%s (run %d) not ready", n.name, n.runs)
	}
	if n.data == "" {
		return
	}
	var l struct{ HTTP string }
	if err := json.Unmarshal([]byte(line), &l); err != nil || l.HTTP == "" {
		n.tb.Fatalf("%s: started line %q: %v", n.name, line, err)
	}
	n.http = l.HTTP
	tok, err := os.ReadFile(filepath.Join(n.data, central.AdminTokenFile))
	if err != nil {
		n.tb.Fatal(err)
	}
	n.token = strings.TrimSpace(string(tok))
}

func (n *haNode) running() bool { return n.p != nil && n.p.running() }

// kill SIGKILLs the run and waits until it is gone.
func (n *haNode) kill() { n.p.kill() }

// stop stops the run with SIGTERM.
func (n *haNode) stop() { n.p.stop(n.tb, 30*time.Second) }

// api calls a central's admin API and decodes the answer into out.
func (n *haNode) api(method, path string, body, out any) error {
	c := centralNode{http: n.http, token: n.token}
	return c.api(method, path, body, out)
}

// verifyReal checks the kiosk processes: every pass they accepted is
// stored once (the device's count and its distinct sequence numbers), no
// break or quarantine, and the kiosk never raised a ledger alert.
func (h *haCluster) verifyReal(ctx context.Context, db *pgx.Conn, real []*kioskNode, l *ledger) {
	t := h.t
	want := l.recorded()
	for _, k := range real {
		var n, distinct, records, q, breaks int64
		db.QueryRow(ctx, "SELECT count(*), count(DISTINCT seq) FROM checkins WHERE device = $1", []byte(k.device)).Scan(&n, &distinct)
		db.QueryRow(ctx, "SELECT records, quarantined, breaks FROM device_states WHERE device = $1", []byte(k.device)).Scan(&records, &q, &breaks)
		if n != distinct || n != records || int(n) != want[k.device] || want[k.device] == 0 {
			t.Errorf("%s: %d stored (%d distinct, state %d), %d accepted", k.name, n, distinct, records, want[k.device])
		}
		if q != 0 || breaks != 0 {
			t.Errorf("%s: quarantined %d, breaks %d", k.name, q, breaks)
		}
		for _, bad := range []string{"ledger fork detected", `"ledger_alert":true`} {
			if got := countLines(k.log, bad); got > 0 {
				t.Errorf("%s logged %d lines with %q", k.name, got, bad)
			}
		}
		t.Logf("%s: %d check-ins stored once; %d reconnects; %d receipts lines", k.name, n,
			countLines(k.log, `"msg":"sync reconnected"`), countLines(k.log, "receipt"))
	}
}
