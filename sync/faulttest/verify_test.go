package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/checkin"
)

// finishOptions adjust what finish expects.
type finishOptions struct {
	// NotStored are records (device → seqs) that must not be stored: they
	// went to quarantine.
	NotStored map[string]map[uint64]bool
	// DrainTimeout bounds the wait for the central to have everything
	// (default 90s: a batch delivered to a central that died comes back
	// after the consumer's ack wait).
	DrainTimeout time.Duration
}

// outcome is what finish found at the central after everything stopped.
type outcome struct {
	stats      map[string]central.DeviceStats // `central stats`
	stored     map[string]map[uint64]store.CheckIn
	quarantine map[string][]store.Quarantine
	flagged    map[string]int // records stored with FlagAfterBreak
}

// reasons returns the reasons of a device's quarantine entries, counted.
func (o *outcome) reasons(device string) map[string]int {
	m := map[string]int{}
	for _, q := range o.quarantine[device] {
		m[q.Reason]++
	}
	return m
}

// finish waits until the kiosks' outboxes are drained and the central has
// stored everything, stops every process, and proves the invariants of
// every scenario:
//
//   - every kiosk's outbox is empty and its chain verifies (`kiosk outbox`);
//   - every scan a kiosk logged "accepted" is stored at the central at the
//     logged (device, sequence), and every record the test wrote into an
//     outbox at its sequence: its personal part opens to the very pass
//     shown (or written) — with the central's key of the record's day,
//     under which ingest re-seals it, itself sealed under the province's
//     key-encryption key — and its lookup tag matches;
//   - a pass answered "duplicate" after a kill (recorded, but killed before
//     the answer) is stored once too;
//   - nothing else is stored: no pass twice, no record of a pass never
//     recorded, no sequence missing (all of 1..last but NotStored);
//   - the central's device state agrees (`central stats`: records, last
//     sequence).
func (c *cluster) finish(ks []*kioskNode, l *ledger, o finishOptions) *outcome {
	t := c.t
	t.Helper()
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 90 * time.Second
	}
	want := l.recorded()
	for dev, seqs := range o.NotStored {
		want[dev] -= len(seqs)
	}
	start := time.Now()
	for _, k := range ks {
		k.waitDrained(o.DrainTimeout)
	}
	deadline := start.Add(o.DrainTimeout)
	for {
		ds, err := c.central.devices()
		done := err == nil
		var missing []string
		for _, k := range ks {
			if err == nil && int(ds[k.device].Records) != want[k.device] {
				done = false
				missing = append(missing, fmt.Sprintf("%s %d/%d", k.name, ds[k.device].Records, want[k.device]))
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the central does not have everything after %v: %v %s", o.DrainTimeout, err, strings.Join(missing, ", "))
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("drained in %v after the last scan", time.Since(start).Round(100*time.Millisecond))

	for _, k := range ks {
		k.stop()
		st, err := k.outboxStats()
		if err != nil || st.Records != 0 || !st.ChainOK {
			t.Errorf("%s: outbox after the sync: %+v, %v", k.name, st, err)
		}
	}
	c.central.stop()
	if c.nats != nil {
		c.nats.p.stop(t, 30*time.Second)
	}

	out := &outcome{stats: map[string]central.DeviceStats{}, stored: map[string]map[uint64]store.CheckIn{}, quarantine: map[string][]store.Quarantine{}, flagged: map[string]int{}}
	js, err := runCmd(t, bins.central, "stats", "--data", c.central.data)
	if err != nil {
		t.Fatal(err)
	}
	var stats []central.DeviceStats
	if err := json.Unmarshal(js, &stats); err != nil {
		t.Fatalf("central stats: %q: %v", js, err)
	}
	for _, s := range stats {
		out.stats[s.ID] = s
	}

	st, err := boltstore.Open(filepath.Join(c.central.data, central.StoreFile), &boltstore.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	dk := c.dayKeys()
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[[16]byte]string{} // pass → device/seq stored
	for _, k := range ks {
		m := map[uint64]store.CheckIn{}
		out.stored[k.device] = m
		err := st.CheckIns(ctx, k.device, 1, func(r store.CheckIn) bool {
			m[r.Seq] = r
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.quarantine[k.device], err = st.Quarantined(ctx, k.device); err != nil {
			t.Fatal(err)
		}
		var last uint64
		for seq, r := range m {
			last = max(last, seq)
			where := fmt.Sprintf("%s/%d", k.name, seq)
			if r.Device != k.device || r.Venue != k.venue {
				t.Errorf("%s: stored as %s at %s", where, r.Device, r.Venue)
			}
			pers, err := openStored(r, dk, c)
			if err != nil {
				t.Errorf("%s: sealed part: %v", where, err)
				continue
			}
			if prev, dup := seen[pers.Pseudonym]; dup {
				t.Errorf("%s: the pass stored at %s is stored again", where, prev)
			}
			seen[pers.Pseudonym] = where
			p := l.passes[pers.Pseudonym]
			switch {
			case p == nil:
				t.Errorf("%s: a pass the test never showed or wrote", where)
			case p.device != k.device:
				t.Errorf("%s: a pass shown to another kiosk", where)
			case p.result == "":
				t.Errorf("%s: a pass that was never answered nor recorded", where)
			case (p.result == "accepted" || p.result == "appended") && p.seq != seq:
				t.Errorf("%s: a pass logged %s at %d", where, p.result, p.seq)
			case p.result == "appended":
				if !r.RawWall.Equal(p.at.Wall) || (r.Time.Sub(p.at.Wall)).Abs() >= time.Microsecond || r.Quality != p.at.Quality ||
					r.Boot != p.at.Boot || r.Mono != p.at.Mono || r.Kind != p.kind {
					t.Errorf("%s: stored time %v (raw %v, %v, mono %v, %v), written %v (%v, mono %v, %v)",
						where, r.Time, r.RawWall, r.Quality, r.Mono, r.Kind, p.at.Wall, p.at.Quality, p.at.Mono, p.kind)
				}
			default:
				if r.Quality != checkin.NTPSynced || (r.Time.Sub(r.RawWall)).Abs() >= time.Microsecond || r.Kind != checkin.Entry {
					t.Errorf("%s: scanned with a trusted clock, stored %v at %v (raw %v) as %v", where, r.Quality, r.Time, r.RawWall, r.Kind)
				}
			}
		}
		for seq := uint64(1); seq <= last; seq++ {
			_, ok := m[seq]
			switch {
			case !ok && !o.NotStored[k.device][seq]:
				t.Errorf("%s: record %d missing at the central", k.name, seq)
			case ok && o.NotStored[k.device][seq]:
				t.Errorf("%s: record %d stored though it went to quarantine", k.name, seq)
			}
		}
		for _, r := range m {
			if r.Flags&store.FlagAfterBreak != 0 {
				out.flagged[k.device]++
			}
		}
		s := out.stats[k.device]
		if int(s.Records) != len(m) || s.LastSeq != last {
			t.Errorf("%s: central stats %+v; the store holds %d records up to %d", k.name, s, len(m), last)
		}
	}
	for ps, p := range l.passes {
		if _, ok := seen[ps]; !ok && p.result != "" && !o.NotStored[p.device][p.seq] {
			t.Errorf("%s: pass %s at %d is not stored at the central", p.device, p.result, p.seq)
		}
	}
	var summary []string
	for _, k := range ks {
		s := out.stats[k.device]
		reasons := out.reasons(k.device)
		keys := make([]string, 0, len(reasons))
		for r := range reasons {
			keys = append(keys, r)
		}
		sort.Strings(keys)
		var rs []string
		for _, r := range keys {
			rs = append(rs, fmt.Sprintf("%s×%d", r, reasons[r]))
		}
		summary = append(summary, fmt.Sprintf("%s: %d records, last %d, quarantined %d, breaks %d %v, flagged %d",
			k.name, s.Records, s.LastSeq, s.Quarantined, s.Breaks, rs, out.flagged[k.device]))
	}
	t.Logf("central: %s; passes %v", strings.Join(summary, "; "), l.countsLocked())
	return out
}

// dayKeys opens the stopped central's day-key ratchet (DATA/daykeys,
// sealed under the province's key-encryption key), or returns nil if the
// central keeps no day keys.
func (c *cluster) dayKeys() *daykeys.Keys {
	path := filepath.Join(c.central.data, central.DayKeysFile)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	k, err := daykeys.Open(path, c.keys.KEK()[:], 0)
	if err != nil {
		c.t.Fatal(err)
	}
	return k
}

// openStored opens a stored check-in's personal part: the central re-seals
// it at ingest under the key of its KST day (crypto-shredding) and tags
// it; without day keys it is kept as the kiosk sealed it, to the
// province's key.
func openStored(r store.CheckIn, dk *daykeys.Keys, c *cluster) (checkin.Personal, error) {
	if dk == nil {
		return checkin.Open(r.Sealed, c.keys.SealingPublicKey(), c.keys.SealingPrivateKey())
	}
	day := daykeys.DayOf(r.Time)
	plain, err := dk.Open(day, r.Sealed, daykeys.AD(r.Device, r.Seq))
	if err != nil {
		return checkin.Personal{}, fmt.Errorf("day key of %s: %w", day, err)
	}
	p, err := checkin.ParsePersonal(plain)
	if err != nil {
		return p, err
	}
	if tag, err := dk.Tag(day, p.Pseudonym); err != nil || tag != r.Tag {
		return p, fmt.Errorf("lookup tag does not match the pseudonym (%v)", err)
	}
	return p, nil
}

func (l *ledger) countsLocked() map[string]int {
	n := map[string]int{}
	for _, r := range l.passes {
		n[r.result]++
	}
	return n
}

// onlyReasons fails the test unless every quarantine entry of the kiosks
// has one of the reasons.
func (o *outcome) onlyReasons(t *testing.T, ks []*kioskNode, reasons ...string) {
	t.Helper()
	for _, k := range ks {
		for _, q := range o.quarantine[k.device] {
			if !slices.Contains(reasons, q.Reason) {
				t.Errorf("%s: quarantined %s: %s", k.name, q.Reason, q.Detail)
			}
		}
	}
}
