package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/anshim/anshim/central/appcheckin"
	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/ledger"
)

// isAppDevice reports whether d is a venue's synthetic app device, whose
// check-ins the central stores without a ledger leaf.
func isAppDevice(d store.Device) bool { return d.ID == appcheckin.AppDevice(d.Venue) }

// Finding kinds.
const (
	Missing      = "missing"      // a record a leaf committed to is not stored
	Extra        = "extra"        // a stored record no leaf covers
	Altered      = "altered"      // a stored record differs from what its leaf committed to
	Survived     = "survived"     // a record of a destroyed day is still stored
	Undocumented = "undocumented" // a day dropped from the store without a day-destroyed leaf
	Count        = "count"        // a destruction leaf's count differs from the leaves'
	Log          = "log"          // the leaves do not make the signed root, or a leaf is malformed
	Unchecked    = "unchecked"    // (warning) what the audit could not check, and why
	AppCheckIn   = "app-unlogged" // (warning) an app check-in, which has no leaf yet
)

// A Finding is one thing the audit found wrong, or (a warning) could not
// check. Device, Seq, Day and Leaf are set where they apply (Leaf −1 for
// none).
type Finding struct {
	Kind   string `json:"kind"`
	Device string `json:"device,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Day    string `json:"day,omitempty"`
	Leaf   int64  `json:"leaf"`
	Detail string `json:"detail"`
}

// String returns the finding on one line.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s", strings.ToUpper(f.Kind))
	if f.Device != "" {
		fmt.Fprintf(&b, " device %s", f.Device)
	}
	if f.Seq != 0 {
		fmt.Fprintf(&b, " seq %d", f.Seq)
	}
	if f.Day != "" {
		fmt.Fprintf(&b, " day %s", f.Day)
	}
	if f.Leaf >= 0 {
		fmt.Fprintf(&b, " leaf %d", f.Leaf)
	}
	return b.String() + ": " + f.Detail
}

// Report is what Run found.
type Report struct {
	Leaves      int64 `json:"leaves"`       // leaves read
	BatchLeaves int   `json:"batch_leaves"` // of which batches
	OldLeaves   int   `json:"old_leaves"`   // batches without stored lines
	EventLeaves int   `json:"event_leaves"`
	// Signed is the size of the signed checkpoint the leaves were checked
	// against; −1 without a verifier (keys-free), 0 with none stored.
	Signed    int64     `json:"signed"`
	Records   int       `json:"records"`   // stored records read
	Devices   int       `json:"devices"`   // devices with records or leaves
	LiveDays  []string  `json:"live_days"` // days with records stored or committed to, not destroyed
	Destroyed []string  `json:"destroyed_days"`
	Findings  []Finding `json:"findings"` // empty: the audit passed
	Warnings  []Finding `json:"warnings"`
}

// OK reports whether the audit found nothing wrong.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// Progress is reported while the audit runs.
type Progress struct {
	Phase   string // "leaves" or "records"
	Done    int64
	Total   int64 // leaves: the log's size; records: 0 (unknown)
	Elapsed time.Duration
}

// Options configure Run. A nil *Options means the defaults.
type Options struct {
	// Verifier checks the latest stored checkpoint's signature; nil
	// audits without (keys-free), and Report.Signed is −1.
	Verifier note.Verifier
	// Progress, if set, is called every ProgressEvery leaves or records
	// and at least every ProgressInterval.
	Progress         func(Progress)
	ProgressEvery    int64         // default 100,000
	ProgressInterval time.Duration // default 5 s
	// Now is the clock for progress (default time.Now).
	Now func() time.Time
}

func (o *Options) get() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.ProgressEvery <= 0 {
		v.ProgressEvery = 100_000
	}
	if v.ProgressInterval <= 0 {
		v.ProgressInterval = 5 * time.Second
	}
	if v.Now == nil {
		v.Now = time.Now
	}
	return v
}

// line is a batch leaf's stored line, resolved.
type line struct {
	leaf   int64
	stored ledger.Stored
	shared bool // a record of it was committed by an earlier leaf too
}

// oldLeaf is a batch leaf without stored lines.
type oldLeaf struct {
	leaf        int64
	first, last uint64
	head        [32]byte
}

// destroyed is a day-destroyed leaf.
type destroyed struct {
	leaf     int64
	count    int64
	hasCount bool
}

// device is what the leaves say about one device.
type device struct {
	lines []*line
	old   []oldLeaf
}

// auditor holds one run's state.
type auditor struct {
	opts      Options
	rep       Report
	devs      map[string]*device
	destroyed map[string]destroyed // by day
	oldBefore int64                // index of the last batch leaf without stored lines, −1 for none
	live      map[string]bool
	start     time.Time
	lastProg  time.Time
}

// Run audits the store seen through v: see the package documentation. An
// error means the audit could not run to its end (the store could not be
// read); what it found is in the Report.
func Run(ctx context.Context, v store.AuditView, opts *Options) (*Report, error) {
	a := &auditor{opts: opts.get(), devs: make(map[string]*device), destroyed: make(map[string]destroyed),
		oldBefore: -1, live: make(map[string]bool)}
	a.start = a.opts.Now()
	a.lastProg = a.start
	a.rep.Signed = -1
	a.rep.Findings, a.rep.Warnings = []Finding{}, []Finding{}
	if err := a.readLeaves(ctx, v); err != nil {
		return &a.rep, err
	}
	if err := a.checkRecords(ctx, v); err != nil {
		return &a.rep, err
	}
	if err := a.checkDays(ctx, v); err != nil {
		return &a.rep, err
	}
	for d := range a.live {
		a.rep.LiveDays = append(a.rep.LiveDays, d)
	}
	slices.Sort(a.rep.LiveDays)
	for d := range a.destroyed {
		a.rep.Destroyed = append(a.rep.Destroyed, d)
	}
	slices.Sort(a.rep.Destroyed)
	return &a.rep, nil
}

func (a *auditor) find(f Finding) { a.rep.Findings = append(a.rep.Findings, f) }
func (a *auditor) warn(f Finding) { a.rep.Warnings = append(a.rep.Warnings, f) }
func (a *auditor) dev(id string) *device {
	d := a.devs[id]
	if d == nil {
		d = &device{}
		a.devs[id] = d
	}
	return d
}

// progress reports done of total in phase when due.
func (a *auditor) progress(phase string, done, total int64) {
	if a.opts.Progress == nil {
		return
	}
	now := a.opts.Now()
	if done%a.opts.ProgressEvery != 0 && now.Sub(a.lastProg) < a.opts.ProgressInterval {
		return
	}
	a.lastProg = now
	a.opts.Progress(Progress{Phase: phase, Done: done, Total: total, Elapsed: now.Sub(a.start)})
}

// leafPage is how many leaves are read at once.
const leafPage = 1000

// readLeaves reads and parses every leaf, recomputes the tree and checks
// it against the latest signed checkpoint.
func (a *auditor) readLeaves(ctx context.Context, v store.AuditView) error {
	size, err := v.LedgerSize(ctx)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	var t ledger.Tree
	for t.Size() < size {
		end := min(t.Size()+leafPage, size)
		leaves, err := v.LedgerLeaves(ctx, t.Size(), end)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		for _, l := range leaves {
			i := t.Size()
			if err := t.Append(l); err != nil {
				return fmt.Errorf("audit: leaf %d: %w", i, err)
			}
			a.leaf(i, l)
			a.rep.Leaves++
			a.progress("leaves", a.rep.Leaves, size)
		}
	}
	if a.opts.Verifier == nil {
		return nil
	}
	a.rep.Signed = 0
	cp, err := v.LatestCheckpoint(ctx)
	if errors.Is(err, store.ErrNotFound) {
		if size > 0 {
			a.warn(Finding{Kind: Unchecked, Leaf: -1, Detail: fmt.Sprintf("no signed checkpoint stored: the %d leaves are not anchored to a signature", size)})
		}
		return nil
	} else if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	c, err := ledger.Open(cp.Note, a.opts.Verifier)
	if err != nil {
		a.find(Finding{Kind: Log, Leaf: -1, Detail: fmt.Sprintf("the latest stored checkpoint does not verify: %v", err)})
		return nil
	}
	if c.Size > size {
		a.find(Finding{Kind: Log, Leaf: -1, Detail: fmt.Sprintf("the signed checkpoint covers %d leaves, the store holds %d: leaves were deleted", c.Size, size)})
		return nil
	}
	root, err := t.Root(c.Size)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if root != c.Hash {
		a.find(Finding{Kind: Log, Leaf: -1, Detail: fmt.Sprintf("the first %d stored leaves do not make the signed root (got %s, signed %s): leaves were edited", c.Size, root, c.Hash)})
		return nil
	}
	a.rep.Signed = c.Size
	if size > c.Size {
		a.warn(Finding{Kind: Unchecked, Leaf: c.Size, Detail: fmt.Sprintf("leaves %d-%d are not yet in a signed checkpoint (audited all the same)", c.Size, size-1)})
	}
	return nil
}

// leaf takes in leaf i.
func (a *auditor) leaf(i int64, text []byte) {
	pl, err := ledger.ParseLeaf(text)
	if err != nil {
		a.find(Finding{Kind: Log, Leaf: i, Detail: err.Error()})
		return
	}
	switch l := pl.(type) {
	case *ledger.Batch:
		a.rep.BatchLeaves++
		lines, err := l.StoredLines()
		if err != nil {
			a.find(Finding{Kind: Log, Device: l.Device, Leaf: i, Detail: err.Error()})
			return
		}
		d := a.dev(l.Device)
		if len(lines) == 0 {
			a.rep.OldLeaves++
			a.oldBefore = i
			d.old = append(d.old, oldLeaf{leaf: i, first: l.First, last: l.Last, head: l.Head})
			return
		}
		for _, s := range lines {
			d.lines = append(d.lines, &line{leaf: i, stored: s})
		}
	case *ledger.Event:
		a.rep.EventLeaves++
		if l.Kind != store.AuditDayDestroyed {
			return
		}
		var detail struct {
			Day     string `json:"day"`
			Dropped *int64 `json:"check_ins_dropped"`
		}
		if err := json.Unmarshal([]byte(l.Detail), &detail); err != nil || detail.Day == "" {
			a.find(Finding{Kind: Log, Leaf: i, Detail: fmt.Sprintf("day-destroyed leaf without a day: %s", l.Detail)})
			return
		}
		if _, seen := a.destroyed[detail.Day]; seen {
			return // destroyed twice: the first leaf counts
		}
		x := destroyed{leaf: i}
		if detail.Dropped != nil {
			x.count, x.hasCount = *detail.Dropped, true
		}
		a.destroyed[detail.Day] = x
	}
}

// rec is a stored record as the audit keeps it.
type rec struct {
	day   string
	hash  [32]byte // ledgerstore.StoredHash
	chain [32]byte // the record's chain hash
}

// checkRecords reads every stored record and checks each device's
// records against its leaves.
func (a *auditor) checkRecords(ctx context.Context, v store.AuditView) error {
	apps := make(map[string]bool)
	devs, err := v.Devices(ctx)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	for _, d := range devs {
		if isAppDevice(d) {
			apps[d.ID] = true
		}
	}
	var (
		cur  string
		recs map[uint64]rec
		done = make(map[string]bool)
	)
	flush := func() {
		if recs != nil {
			a.checkDevice(cur, recs, apps[cur])
			done[cur] = true
		}
	}
	err = v.EachCheckIn(ctx, func(c store.CheckIn) error {
		if recs == nil || c.Device != cur {
			flush()
			cur, recs = c.Device, make(map[uint64]rec)
		}
		h, err := ledgerstore.StoredHash(c)
		if err != nil {
			return err
		}
		recs[c.Seq] = rec{day: ledger.StoredDay(c.Time), hash: h, chain: c.Hash}
		a.rep.Records++
		a.progress("records", int64(a.rep.Records), 0)
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	flush()
	var rest []string
	for id := range a.devs {
		if !done[id] {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	for _, id := range rest { // devices with leaves and no record left
		a.checkDevice(id, map[uint64]rec{}, apps[id])
	}
	return nil
}

// dayGone reports whether records of day committed by leaf i may be gone:
// a day-destroyed leaf after it.
func (a *auditor) dayGone(day string, leaf int64) bool {
	x, ok := a.destroyed[day]
	return ok && x.leaf > leaf
}

// checkDevice checks one device's stored records against its leaves.
func (a *auditor) checkDevice(id string, recs map[uint64]rec, app bool) {
	d := a.devs[id]
	if d == nil {
		d = &device{}
	}
	a.rep.Devices++
	claimed := make(map[uint64]bool)
	for _, l := range d.lines {
		for _, q := range l.stored.Seqs {
			if claimed[q] {
				l.shared = true
			}
			claimed[q] = true
		}
	}
	for _, l := range d.lines {
		a.checkLine(id, l, recs)
	}
	covered := func(q uint64) bool { return claimed[q] }
	for _, o := range d.old {
		var gone []uint64
		for q := o.first; q <= o.last && q >= o.first; q++ {
			if _, ok := recs[q]; !ok && !claimed[q] {
				gone = append(gone, q)
			}
		}
		if len(gone) > 0 {
			later := false
			for _, x := range a.destroyed {
				later = later || x.leaf > o.leaf
			}
			if later {
				a.warn(Finding{Kind: Unchecked, Device: id, Leaf: o.leaf, Detail: fmt.Sprintf(
					"records %s of a leaf written before stored lines are not stored; a day was destroyed since, and such a leaf does not say which day they were of", runs(gone))})
			} else {
				for _, q := range gone {
					a.find(Finding{Kind: Missing, Device: id, Seq: q, Leaf: o.leaf, Detail: fmt.Sprintf("in the range %d-%d the ledger committed to, not in the store", o.first, o.last)})
				}
			}
		}
		if r, ok := recs[o.last]; ok && r.chain != o.head {
			a.find(Finding{Kind: Altered, Device: id, Seq: o.last, Day: r.day, Leaf: o.leaf, Detail: "its chain hash is not the head the ledger committed to"})
		}
	}
	oldCovers := func(q uint64) bool {
		for _, o := range d.old {
			if o.first <= q && q <= o.last {
				return true
			}
		}
		return false
	}
	var extra []uint64
	for q := range recs {
		if !covered(q) && !oldCovers(q) {
			extra = append(extra, q)
		}
	}
	slices.Sort(extra)
	for _, q := range extra {
		r := recs[q]
		switch {
		case a.dayGone(r.day, 1<<62):
			// reported as Survived by checkDays
		case app:
			a.warn(Finding{Kind: AppCheckIn, Device: id, Seq: q, Day: r.day, Leaf: -1, Detail: "an app check-in: the central writes no ledger leaf for those yet"})
		default:
			a.find(Finding{Kind: Extra, Device: id, Seq: q, Day: r.day, Leaf: -1, Detail: "stored, but no ledger leaf commits to it"})
		}
	}
	for _, r := range recs {
		if !a.dayGone(r.day, 1<<62) {
			a.live[r.day] = true
		}
	}
}

// checkLine checks one stored line against the records of its device.
func (a *auditor) checkLine(id string, l *line, recs map[uint64]rec) {
	s := &l.stored
	if a.dayGone(s.Day, l.leaf) {
		return // its records must be gone: checkDays
	}
	a.live[s.Day] = true
	var missing []uint64
	hashes := make([][32]byte, len(s.Seqs))
	for i, q := range s.Seqs {
		r, ok := recs[q]
		if !ok {
			missing = append(missing, q)
			continue
		}
		hashes[i] = r.hash
	}
	for _, q := range missing {
		a.find(Finding{Kind: Missing, Device: id, Seq: q, Day: s.Day, Leaf: l.leaf, Detail: "committed to by the ledger, not in the store"})
	}
	if len(missing) > 0 {
		if len(missing) < len(s.Seqs) {
			a.warn(Finding{Kind: Unchecked, Device: id, Day: s.Day, Leaf: l.leaf, Detail: fmt.Sprintf(
				"records %s were not checked for alteration: their line's digest covers the missing records too", runs(without(s.Seqs, missing)))})
		}
		return
	}
	if ledger.StoredDigest(s.Day, hashes) == s.Digest {
		return
	}
	if l.shared {
		a.warn(Finding{Kind: Unchecked, Device: id, Day: s.Day, Leaf: l.leaf, Detail: fmt.Sprintf(
			"records %s: the digest differs, but a record of it was committed by an earlier leaf too (overlapping batches ingested at once), so it cannot be checked", runs(s.Seqs))})
		return
	}
	if len(s.Seqs) == 1 {
		a.find(Finding{Kind: Altered, Device: id, Seq: s.Seqs[0], Day: s.Day, Leaf: l.leaf, Detail: "the stored record differs from what the ledger committed to"})
		return
	}
	if pos, ok := s.Locate(hashes); ok {
		a.find(Finding{Kind: Altered, Device: id, Seq: s.Seqs[pos], Day: s.Day, Leaf: l.leaf, Detail: "the stored record differs from what the ledger committed to"})
		return
	}
	for _, q := range s.Seqs {
		a.find(Finding{Kind: Altered, Device: id, Seq: q, Day: s.Day, Leaf: l.leaf, Detail: fmt.Sprintf(
			"several of records %s differ from what the ledger committed to; this is one of them or among them", runs(s.Seqs))})
	}
}

// checkDays checks the destroyed days and the days dropped from the store.
func (a *auditor) checkDays(ctx context.Context, v store.AuditView) error {
	dropped, err := v.DroppedDays(ctx)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	for _, d := range dropped {
		day := d.Format(time.DateOnly)
		if _, ok := a.destroyed[day]; !ok {
			a.find(Finding{Kind: Undocumented, Day: day, Leaf: -1, Detail: "dropped from the store without a day-destroyed leaf in the ledger"})
		}
	}
	// Records of destroyed days still stored, and the counts.
	committed := make(map[string]int64)
	var ids []string
	for id := range a.devs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		for _, l := range a.devs[id].lines {
			x, ok := a.destroyed[l.stored.Day]
			if !ok || l.leaf > x.leaf {
				continue
			}
			committed[l.stored.Day] += int64(len(l.stored.Seqs))
		}
	}
	for day, x := range a.destroyed {
		if !x.hasCount {
			continue
		}
		if a.oldBefore >= 0 && a.oldBefore < x.leaf {
			a.warn(Finding{Kind: Unchecked, Day: day, Leaf: x.leaf, Detail: "the count of check-ins dropped is not checked: leaves before it have no stored lines"})
			continue
		}
		if committed[day] != x.count {
			a.find(Finding{Kind: Count, Day: day, Leaf: x.leaf, Detail: fmt.Sprintf(
				"the destruction leaf says %d check-ins were dropped, the batch leaves before it committed to %d of that day", x.count, committed[day])})
		}
	}
	return a.survivors(ctx, v)
}

// survivors reports stored records of destroyed days. They were read
// once already; a second pass keeps memory to one device at a time.
func (a *auditor) survivors(ctx context.Context, v store.AuditView) error {
	if len(a.destroyed) == 0 {
		return nil
	}
	err := v.EachCheckIn(ctx, func(c store.CheckIn) error {
		day := ledger.StoredDay(c.Time)
		if x, ok := a.destroyed[day]; ok {
			a.find(Finding{Kind: Survived, Device: c.Device, Seq: c.Seq, Day: day, Leaf: x.leaf, Detail: "still stored after its day was destroyed"})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// runs formats ascending sequence numbers as "1-4,7".
func runs(qs []uint64) string {
	var b strings.Builder
	for i := 0; i < len(qs); {
		j := i
		for j+1 < len(qs) && qs[j+1] == qs[j]+1 {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", qs[i], qs[j])
		} else {
			fmt.Fprintf(&b, "%d", qs[i])
		}
		i = j + 1
	}
	return b.String()
}

// without returns qs less drop (both ascending).
func without(qs, drop []uint64) []uint64 {
	var out []uint64
	for _, q := range qs {
		if _, found := slices.BinarySearch(drop, q); !found {
			out = append(out, q)
		}
	}
	return out
}
