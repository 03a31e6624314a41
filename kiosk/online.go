package kiosk

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// Files of a kiosk enrolled with the central (written by `kiosk enroll`).
const (
	FileNATS    = "nats.json" // uplink.Settings: the central's NATS servers
	FileNATSKey = "nats.nk"   // the device's NATS user nkey seed, mode 0600
	// FileNATSCA is the CA certificate (PEM) of the central's NATS
	// servers, from the enrollment: when present, the kiosk connects over
	// TLS and trusts only it.
	FileNATSCA = "nats-ca.pem"
)

var _ uplink.Outbox = (*Outbox)(nil)

// ReadWireBatch returns the batch ReadBatch reads, in the wire format with
// the outbox's device and venue; Sent is left for the sender to stamp. It
// implements uplink.Outbox.
func (o *Outbox) ReadWireBatch(after uint64, maxBytes int) (*wire.Batch, error) {
	b, err := o.ReadBatch(after, maxBytes)
	if err != nil || b == nil {
		return nil, err
	}
	return &wire.Batch{Device: o.device, Venue: o.venue, Prev: b.Prev, Head: b.Head, Records: b.Records}, nil
}

// applyCache writes down-sync changes to the cache in one commit: with
// snapshot true the bucket's cache is replaced by them.
func (o *Outbox) applyCache(bucket string, changes []uplink.Change, snapshot bool) error {
	err := o.db.Update(func(tx *bolt.Tx) error {
		c, err := tx.CreateBucketIfNotExists(bucketCache)
		if err != nil {
			return err
		}
		if snapshot && c.Bucket([]byte(bucket)) != nil {
			if err := c.DeleteBucket([]byte(bucket)); err != nil {
				return err
			}
		}
		b, err := c.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		for _, ch := range changes {
			if ch.Key == "" {
				continue
			}
			if ch.Value == nil {
				err = b.Delete([]byte(ch.Key))
			} else {
				err = b.Put([]byte(ch.Key), ch.Value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache %s: %w", bucket, err)
	}
	return nil
}

// revocations is the union of the revocation list file (revoked.json) and
// the revocations received by down-sync.
type revocations [2]*pass.RevocationList

// IsRevoked implements pass.Revocations.
func (r revocations) IsRevoked(p *pass.Pass) bool { return r[0].IsRevoked(p) || r[1].IsRevoked(p) }

// downSync applies what the central publishes (docs/sync.md, "Down-sync")
// to the running kiosk and keeps it in the outbox's cache, from which it is
// loaded at start, before and without any connection:
//
//   - revoked passes: added to and removed from a revocation list that the
//     verifier consults next to revoked.json;
//   - pass keys: when the central lists any valid key, exactly those keys
//     verify passes (a key deleted centrally stops verifying); with none,
//     the bundle's keys do;
//   - the sealing key: new records are sealed to it (the bundle's key when
//     the central holds none);
//
// Pass keys and the sealing key are taken only as key updates signed by
// the root key of the kiosk's bundle (province.KeyUpdate). Anything else —
// unsigned, signed by another key, for another bucket key, or a sealing key
// older than the one held — is refused with an ERROR line, and the kiosk
// keeps its current keys (also in its cache, so a restart does not lose
// them);
//   - the venue's settings: its debounce window, unless the kiosk's own
//     configuration sets one.
//
// It implements uplink.Sink.
type downSync struct {
	ob            *Outbox
	bundle        *province.Bundle // for the ledger verifier key
	log           *slog.Logger
	venue         string
	bundleKeys    []pass.PublicKey
	bundleSeal    [32]byte
	fileRev       *pass.RevocationList
	kvRev         *pass.RevocationList
	online        bool
	localDebounce bool

	mu         sync.Mutex
	k          *Kiosk
	passKeys   map[string]pass.PublicKey // verified, by key id
	passRaw    map[string][]byte         // their signed values, as cached
	seal       *[32]byte                 // from the sealing bucket, nil: the bundle's
	sealID     string
	sealRaw    []byte         // its signed value, as cached
	sealIssued time.Time      // when it was signed
	debounce   *time.Duration // from the venue settings, nil: none
}

var _ uplink.Sink = (*downSync)(nil)

// newDownSync returns the down-sync state of a kiosk, loaded from the
// cache. A cache that cannot be read is logged and skipped: the bundle and
// revoked.json still apply.
func newDownSync(ob *Outbox, bundle *province.Bundle, fileRev *pass.RevocationList, online, localDebounce bool, log *slog.Logger) *downSync {
	d := &downSync{
		ob: ob, bundle: bundle, log: log, venue: ob.Venue(), bundleKeys: bundle.PassKeys(), bundleSeal: *bundle.SealingPublicKey(),
		fileRev: fileRev, kvRev: new(pass.RevocationList), online: online, localDebounce: localDebounce,
		passKeys: map[string]pass.PublicKey{}, passRaw: map[string][]byte{},
	}
	for _, b := range wire.DownSyncBuckets() {
		var changes []uplink.Change
		err := ob.ForEachCache(b, func(key string, value []byte) error {
			changes = append(changes, uplink.Change{Key: key, Value: value})
			return nil
		})
		if err != nil {
			log.Error("down-sync cache unreadable: using the bundle and revoked.json", "bucket", b, "err", err)
			continue
		}
		d.applyLive(b, changes, true)
	}
	if n := d.kvRev.Len(); n > 0 || len(d.passKeys) > 0 || d.seal != nil {
		log.Info("down-sync cache loaded", "revoked", n, "pass_keys", len(d.passKeys), "sealing_key", d.sealID)
	}
	return d
}

// verifier returns a pass verifier for the current keys and revocations.
func (d *downSync) verifier() *pass.Verifier {
	var rev pass.Revocations = d.fileRev
	if d.online || d.kvRev.Len() > 0 {
		rev = revocations{d.fileRev, d.kvRev}
	}
	return pass.NewVerifier(d.keys(), rev)
}

// keys returns the valid pass keys the central listed, or the bundle's.
func (d *downSync) keys() []pass.PublicKey {
	var keys []pass.PublicKey
	for _, k := range d.passKeys {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return d.bundleKeys
	}
	slices.SortFunc(keys, func(a, b pass.PublicKey) int { return cmp.Compare(a.ID, b.ID) })
	return keys
}

// sealTo returns the current record-sealing key.
func (d *downSync) sealTo() *[32]byte {
	if d.seal != nil {
		k := *d.seal
		return &k
	}
	k := d.bundleSeal
	return &k
}

// debounceWindow returns the debounce window: the configuration's, else
// the venue's, else the default.
func (d *downSync) debounceWindow(cfg Config) time.Duration {
	if !d.localDebounce && d.debounce != nil {
		return *d.debounce
	}
	return cfg.DebounceOrDefault()
}

// attach makes d apply changes to k from now on.
func (d *downSync) attach(k *Kiosk) {
	d.mu.Lock()
	d.k = k
	d.mu.Unlock()
}

// Apply implements uplink.Sink: it applies the changes to the running
// kiosk first (a revoked pass is refused at once), then caches what it
// took.
func (d *downSync) Apply(bucket string, changes []uplink.Change, snapshot bool) error {
	d.mu.Lock()
	cache := d.applyLive(bucket, changes, snapshot)
	d.mu.Unlock()
	return d.ob.applyCache(bucket, cache, snapshot)
}

// refused logs a key update that the kiosk did not take.
func (d *downSync) refused(bucket, key string, err error) {
	hint := "the value is not signed by the root key of the province in bundle.json: tell the province (is someone else writing to its NATS?)"
	if errors.Is(err, province.ErrNoRootKey) {
		hint = "this kiosk's bundle.json has no root key: re-enroll it, or install the province's current public.json, to take key updates"
	}
	d.log.Error("down-sync: key update refused: keeping the current keys", "bucket", bucket, "key", key, "err", err, "hint", hint)
}

// applyLive updates the state and, when attached, the kiosk. d.mu is held
// (or d is not shared yet). It returns the changes to cache: key updates
// that were refused are left out, and a snapshot keeps the values held for
// the keys it refused.
func (d *downSync) applyLive(bucket string, changes []uplink.Change, snapshot bool) []uplink.Change {
	switch bucket {
	case wire.BucketRevoked:
		d.applyRevoked(changes, snapshot)
	case wire.BucketPassKeys:
		return d.applyPassKeys(changes, snapshot)
	case wire.BucketSealing:
		return d.applySealing(changes, snapshot)
	case wire.BucketVenues:
		var mine *uplink.Change
		for i, c := range changes {
			if c.Key == d.venue {
				mine = &changes[i]
			}
		}
		switch {
		case mine == nil && !snapshot:
			return changes
		case mine == nil || mine.Value == nil:
			d.debounce = nil
		default:
			w, err := parseVenueDebounce(mine.Value)
			if err != nil {
				d.log.Warn("down-sync: venue settings ignored", "venue", d.venue, "err", err)
				return changes
			}
			d.debounce = w
		}
		if d.k != nil && !d.localDebounce {
			w := time.Duration(0)
			if d.debounce != nil {
				w = *d.debounce
			}
			d.k.SetDebounce(w)
		}
	}
	return changes
}

// applyPassKeys applies changes of the pass-keys bucket (see applyLive).
func (d *downSync) applyPassKeys(changes []uplink.Change, snapshot bool) []uplink.Change {
	before := d.keys()
	keys, raw := maps.Clone(d.passKeys), maps.Clone(d.passRaw)
	if snapshot {
		clear(keys)
		clear(raw)
	}
	var cache []uplink.Change
	for _, c := range changes {
		if c.Value == nil {
			delete(keys, c.Key)
			delete(raw, c.Key)
			cache = append(cache, c)
			continue
		}
		k, err := d.openPassKey(c.Key, c.Value)
		if err != nil {
			d.refused(wire.BucketPassKeys, c.Key, err)
			if old, ok := d.passKeys[c.Key]; ok && snapshot {
				keys[c.Key], raw[c.Key] = old, d.passRaw[c.Key]
				cache = append(cache, uplink.Change{Key: c.Key, Value: d.passRaw[c.Key]})
			}
			continue
		}
		keys[c.Key], raw[c.Key] = k, bytes.Clone(c.Value)
		cache = append(cache, c)
	}
	d.passKeys, d.passRaw = keys, raw
	if after := d.keys(); d.k != nil && !slices.EqualFunc(before, after, samePassKey) {
		d.k.SetVerifier(d.verifier())
		d.log.Info("pass keys updated", "keys", len(after))
	}
	return cache
}

// openPassKey verifies a signed pass-key update and parses its key.
func (d *downSync) openPassKey(id string, v []byte) (pass.PublicKey, error) {
	u, err := d.bundle.OpenKeyUpdate(v, province.KindPassKey, id)
	if err != nil {
		return pass.PublicKey{}, err
	}
	return wire.ParsePassKey(id, u.Payload)
}

// applySealing applies changes of the sealing bucket (see applyLive).
func (d *downSync) applySealing(changes []uplink.Change, snapshot bool) []uplink.Change {
	before := *d.sealTo()
	var cur *uplink.Change
	for i, c := range changes {
		if c.Key == wire.SealingKeyCurrent {
			cur = &changes[i]
		}
	}
	kept := func() []uplink.Change { // what the cache holds now
		if d.sealRaw == nil {
			return nil
		}
		return []uplink.Change{{Key: wire.SealingKeyCurrent, Value: d.sealRaw}}
	}
	switch {
	case cur == nil && !snapshot:
		return nil
	case cur == nil || cur.Value == nil:
		d.seal, d.sealID, d.sealRaw, d.sealIssued = nil, "", nil, time.Time{}
		if d.k != nil && *d.sealTo() != before {
			d.k.SetSealTo(d.sealTo())
			d.log.Info("sealing key updated: the bundle's", "id", d.bundle.SealingKeyID)
		}
		return []uplink.Change{{Key: wire.SealingKeyCurrent}}
	default:
		u, err := d.bundle.OpenKeyUpdate(cur.Value, province.KindSealingKey, wire.SealingKeyCurrent)
		var sk wire.SealingKey
		if err == nil {
			sk, err = wire.ParseSealingKey(u.Payload)
		}
		if err == nil && u.Issued.Before(d.sealIssued) {
			err = fmt.Errorf("sealing key %s signed at %v, before the one held (%s, %v): a replay?", sk.ID, u.Issued, d.sealID, d.sealIssued)
		}
		if err != nil {
			d.refused(wire.BucketSealing, wire.SealingKeyCurrent, err)
			if snapshot {
				return kept()
			}
			return nil
		}
		key := sk.Key
		d.seal, d.sealID, d.sealRaw, d.sealIssued = &key, sk.ID, bytes.Clone(cur.Value), u.Issued
	}
	if d.k != nil && *d.sealTo() != before {
		d.k.SetSealTo(d.sealTo())
		d.log.Info("sealing key updated", "id", d.sealID)
	}
	return kept()
}

func (d *downSync) applyRevoked(changes []uplink.Change, snapshot bool) {
	before := d.kvRev.Len()
	bad := 0
	var keep map[string]bool
	if snapshot {
		keep = make(map[string]bool, len(changes))
	}
	for _, c := range changes {
		if c.Value == nil {
			d.kvRev.Remove(c.Key)
			continue
		}
		if err := d.kvRev.Add(c.Key); err != nil {
			bad++
			continue
		}
		if keep != nil {
			keep[c.Key] = true
		}
	}
	if keep != nil {
		for _, id := range d.kvRev.IDs() {
			if !keep[id] {
				d.kvRev.Remove(id)
			}
		}
	}
	if bad > 0 {
		d.log.Warn("down-sync: malformed revocation ids ignored", "count", bad)
	}
	if d.k != nil && (!snapshot || d.kvRev.Len() != before) {
		d.log.Info("revocations updated", "revoked", d.kvRev.Len())
	}
}

func samePassKey(a, b pass.PublicKey) bool { return a.ID == b.ID && bytes.Equal(a.Key, b.Key) }

// parseVenueDebounce reads the debounce window of a venue's settings; nil
// when they set none. Other settings are not the kiosk's.
func parseVenueDebounce(v []byte) (*time.Duration, error) {
	s, err := wire.ParseVenueSettings(v)
	if err != nil {
		return nil, err
	}
	if s.Debounce == "" {
		return nil, nil
	}
	w, err := ParseDuration(s.Debounce)
	if err != nil {
		return nil, fmt.Errorf("venue settings: debounce: %w", err)
	}
	return &w, nil
}

// onlineSettings reads how to reach the central: ok is false when the
// kiosk is not enrolled online (no nats.json) or is configured offline.
func onlineSettings(cfg Config) (s uplink.Settings, seed []byte, ok bool, err error) {
	if cfg.Offline {
		return s, nil, false, nil
	}
	path := filepath.Join(cfg.Data, FileNATS)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return s, nil, false, nil
	}
	if s, err = uplink.LoadSettings(path); err != nil {
		return s, nil, false, err
	}
	if len(cfg.NATSURLs) > 0 {
		s.URLs = cfg.NATSURLs
	}
	if seed, err = uplink.LoadSeed(filepath.Join(cfg.Data, FileNATSKey)); err != nil {
		return s, nil, false, fmt.Errorf("%w (enrollment incomplete: enroll again with a new token)", err)
	}
	return s, seed, true, nil
}

// startOnline starts the uplink and down-sync of an enrolled kiosk in
// d.wg; without nats.json it only says that the kiosk runs offline. A broken
// sync configuration is logged and never stops the kiosk from recording.
func (d *daemon) startOnline(ctx context.Context) *uplink.Uplink {
	cfg, clock, log := d.cfg, d.clock, d.log
	s, seed, ok, err := onlineSettings(cfg)
	switch {
	case err != nil:
		log.Error("sync disabled: running offline", "err", err,
			"hint", "check "+filepath.Join(cfg.Data, FileNATS)+" and "+FileNATSKey+", or re-enroll with `kiosk enroll`")
		return nil
	case !ok:
		log.Info("sync off: running offline", "hint", "enroll with `kiosk enroll --token T --central URL` to sync")
		return nil
	}
	secure, err := natsTransport(cfg, s.URLs, log)
	if err != nil {
		log.Error("sync disabled: running offline", "err", err,
			"hint", "re-enroll with a central that serves NATS over TLS (it sends its CA), or set nats_insecure (--nats-insecure) to accept plaintext")
		return nil
	}
	ucfg := uplink.Config{
		Outbox: d.ob, Device: d.dev.ID, Venue: d.dev.Venue, URLs: s.URLs, Seed: seed,
		Subject: s.Subject, InboxPrefix: s.InboxPrefix,
		Clock: func() wire.Stamp { return wire.Stamp(clock.Now()) },
		Log:   log, Wake: d.k.Committed(), Sink: d.ds,
		Options: secure,
	}
	if w := newWitness(d.ob, d.ds.bundle, d.clock, log); w != nil {
		w.Poll = time.Duration(cfg.CheckpointPoll)
		ucfg.Witness = w
	}
	if d.env.Uplink != nil {
		d.env.Uplink(&ucfg)
	}
	up, err := uplink.New(ucfg)
	if err != nil {
		log.Error("sync disabled: running offline", "err", err)
		return nil
	}
	d.wg.Go(func() {
		if err := up.Run(ctx); err != nil {
			log.Error("sync stopped: running offline", "err", err)
		}
	})
	d.wg.Go(func() { logStatus(ctx, up, cfg.MaintenanceOrDefault(), log) })
	return up
}

// natsTransport returns the NATS options of the kiosk's link security:
//
//   - with DATA/nats-ca.pem (from the enrollment, signed by the province's
//     root key): TLS, trusting only that CA;
//   - else with only tls:// (or wss://) URLs: TLS, trusting the system's
//     roots;
//   - else plaintext, only with cfg.NATSInsecure, and a WARN line;
//     without it an error.
func natsTransport(cfg Config, urls []string, log *slog.Logger) ([]nats.Option, error) {
	path := filepath.Join(cfg.Data, FileNATSCA)
	ca, err := os.ReadFile(path)
	switch {
	case err == nil:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("NATS CA %s: no PEM certificate", path)
		}
		return []nats.Option{nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})}, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("NATS CA: %w", err)
	}
	secure := len(urls) > 0
	for _, u := range urls {
		if !strings.HasPrefix(u, "tls://") && !strings.HasPrefix(u, "wss://") {
			secure = false
		}
	}
	switch {
	case secure:
		return []nats.Option{nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12})}, nil
	case cfg.NATSInsecure:
		log.Warn("sync: NATS without TLS (nats_insecure): check-in batches and key updates travel unencrypted and the central is not authenticated",
			"hint", "re-enroll with a central that serves NATS over TLS, then drop nats_insecure")
		return nil, nil
	}
	return nil, fmt.Errorf("NATS without TLS refused: no %s from the enrollment and plain nats:// URLs (%s)", FileNATSCA, strings.Join(urls, ","))
}

// newWitness returns the kiosk's ledger witness, or nil (logged) when the
// bundle has no usable ledger verifier key or the cache cannot be read:
// the kiosk then syncs without checking receipts.
func newWitness(ob *Outbox, bundle *province.Bundle, clock Clock, log *slog.Logger) *Witness {
	if bundle == nil {
		return nil
	}
	v, err := bundle.NoteVerifier()
	if err != nil {
		log.Error("ledger receipts not checked: no ledger verifier key in the bundle", "err", err)
		return nil
	}
	w, err := NewWitness(ob, v, func() time.Time { return clock.Now().Wall }, log)
	if err != nil {
		log.Error("ledger receipts not checked", "err", err)
		return nil
	}
	return w
}

// logStatus logs the sync's status at every maintenance interval.
func logStatus(ctx context.Context, up *uplink.Uplink, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := up.Status()
		attrs := []any{"connected", st.Connected, "pending", st.Pending, "in_flight", st.InFlight}
		if !st.LastAck.IsZero() {
			attrs = append(attrs, "last_ack", st.LastAck)
		}
		if st.LastError != "" {
			attrs = append(attrs, "last_error", st.LastError)
		}
		attrs = append(attrs, "receipts", st.Receipts)
		if st.LedgerAlert {
			// Every status line repeats the alert until an operator acts.
			log.Error("sync status", append(attrs, "ledger_alert", true,
				"hint", "the central's ledger forked: keep this kiosk's outbox file (bucket evidence) and tell the province")...)
			continue
		}
		log.Info("sync status", attrs...)
	}
}
