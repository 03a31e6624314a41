package trace

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// Degrees of a trace.
const (
	DefaultDegree = 2
	MaxDegree     = 4
)

// ErrInvalid is the error of a request the engine refuses (a missing date,
// a degree out of range, a window that ends before it starts).
var ErrInvalid = errors.New("invalid trace request")

// Store is what a trace reads: *boltstore.Store and *pgstore.Store.
type Store interface {
	store.Tracing
	Venue(ctx context.Context, id string) (store.Venue, error)
}

// Keys are the day keys the check-ins are sealed and tagged with:
// *daykeys.Keys.
type Keys interface {
	Tag(d daykeys.Day, pseudonym [16]byte) ([16]byte, error)
	Open(d daykeys.Day, sealed, ad []byte) ([]byte, error)
}

// Options configure New. A nil *Options means the defaults.
type Options struct {
	// Stays override the built-in default stays of categories, for venues
	// stored without a DefaultStay.
	Stays registry.Stays
	// Now is the clock, for the default isolation and Until (default
	// time.Now).
	Now func() time.Time
	// Parallel is how many venue look-ups run at once (default 8).
	Parallel int
	// VenueCache is how long a venue's default stay is kept across
	// traces (default 0: read once per trace). A change of a venue's
	// category or stay is seen that much later.
	VenueCache time.Duration
}

// Tracer runs traces. It is safe for concurrent use.
type Tracer struct {
	st       Store
	keys     Keys
	stays    registry.Stays
	now      func() time.Time
	parallel int

	venueTTL time.Duration
	vmu      sync.Mutex
	vcache   map[string]cachedStay
}

type cachedStay struct {
	stay time.Duration
	read time.Time
}

// New returns a tracer over st, opening check-ins with keys.
func New(st Store, keys Keys, opts *Options) *Tracer {
	t := &Tracer{st: st, keys: keys, now: time.Now, parallel: 8}
	if opts != nil {
		t.stays = opts.Stays
		if opts.Now != nil {
			t.now = opts.Now
		}
		if opts.Parallel > 0 {
			t.parallel = opts.Parallel
		}
		t.venueTTL = opts.VenueCache
	}
	return t
}

// Request is a case to trace.
type Request struct {
	// Pseudonym is the case's.
	Pseudonym [16]byte
	// Onset is the day (KST; any instant of it) symptoms began; Tested the
	// day the sample was taken, which sets the window instead when
	// Asymptomatic.
	Onset, Tested time.Time
	Asymptomatic  bool
	// Isolation ends the case's window (default: now).
	Isolation time.Time
	// Until ends the onward exposure by contacts (default: now, and never
	// before Isolation).
	Until time.Time
	// Degree is how far to follow exposure: 1 to MaxDegree (0 means
	// DefaultDegree).
	Degree int
}

// Window returns the case's window, [from, to), given the time now: from
// the start of the KST day two days before onset (or the test date), to
// isolation.
func (r Request) Window(now time.Time) (from, to time.Time, err error) {
	start := r.Onset
	what := "onset"
	if r.Asymptomatic {
		start, what = r.Tested, "tested"
	}
	if start.IsZero() {
		return from, to, fmt.Errorf("%w: %s: a date is required", ErrInvalid, what)
	}
	from = (daykeys.DayOf(start) - 2).Start()
	to = r.Isolation
	if to.IsZero() {
		to = now
	}
	if !from.Before(to) {
		return from, to, fmt.Errorf("%w: the window from %s to isolation at %s is empty", ErrInvalid,
			from.In(daykeys.KST).Format("2006-01-02"), to.In(daykeys.KST).Format(time.RFC3339))
	}
	return from, to, nil
}

// Result is a trace's answer.
type Result struct {
	From   time.Time `json:"from"`  // the case's window
	To     time.Time `json:"to"`    // (isolation)
	Until  time.Time `json:"until"` // the end of onward exposure
	Degree int       `json:"degree"`
	// Case are the case's stays that overlap its window.
	Case     []Stay    `json:"case"`
	Contacts []Contact `json:"contacts"` // by exposure, then degree
	Stats    Stats     `json:"stats"`
}

// Stats count the work of a trace.
type Stats struct {
	VenueQueries int `json:"venue_queries"`
	TagQueries   int `json:"tag_queries"`
	CheckIns     int `json:"check_ins"`  // read
	Opened       int `json:"opened"`     // sealed parts opened
	Unreadable   int `json:"unreadable"` // sealed parts that did not open
}

// CaseRef is the reference of the case in paths.
const CaseRef = "case"

// Contact is an exposed person.
type Contact struct {
	// Ref names the person within this trace: "C1", "C2", … in the order
	// of Contacts.
	Ref    string `json:"ref"`
	Degree int    `json:"degree"`
	Venue  string `json:"venue"`
	// Exposed is the start of the overlap: the person's earliest exposure
	// over paths of Degree hops, the fewest that reach them;
	// OverlapMinutes its length, in minutes rounded up.
	Exposed        time.Time `json:"exposed"`
	OverlapMinutes int       `json:"overlap_minutes"`
	// Stay is the contact's stay at the venue, Source the stay of the
	// person who exposed them (Via) there.
	Stay   Stay   `json:"stay"`
	Source Stay   `json:"source"`
	Via    string `json:"via"`
	// Path are the exposures from the case to this person: the case first
	// (at the window's start), this person last.
	Path []Hop `json:"path"`
	// Flagged is true when Stay or Source is flagged.
	Flagged bool `json:"flagged"`
	// Name and Phone are set by a reveal only.
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Pseudonym is the person's: for an audited reveal, never in JSON.
	Pseudonym [16]byte `json:"-"`
}

// Hop is one exposure on a path: Ref was exposed at Venue at Exposed.
type Hop struct {
	Ref     string    `json:"ref"`
	Venue   string    `json:"venue,omitempty"`
	Exposed time.Time `json:"exposed"`
}

// exposure is the best exposure of a person found so far.
type exposure struct {
	who          [16]byte
	at           time.Time
	degree       int
	overlap      time.Duration
	stay, source Stay
	via          [16]byte
	path         []hop // from the first contact to this one
}

type hop struct {
	who   [16]byte
	venue string
	at    time.Time
}

// source is an interval during which an exposed person could pass
// exposure on at a venue.
type source struct {
	who        [16]byte
	exp        *exposure // nil for the case
	stay       Stay
	start, end time.Time
}

// Trace runs a trace.
func (t *Tracer) Trace(ctx context.Context, req Request) (*Result, error) {
	now := t.now()
	from, to, err := req.Window(now)
	if err != nil {
		return nil, err
	}
	deg := req.Degree
	if deg == 0 {
		deg = DefaultDegree
	}
	if deg < 1 || deg > MaxDegree {
		return nil, fmt.Errorf("%w: degree %d: want 1 to %d", ErrInvalid, deg, MaxDegree)
	}
	until := req.Until
	if until.IsZero() {
		until = now
	}
	if until.Before(to) {
		until = to
	}
	r := &run{t: t, ctx: ctx, now: now, opened: map[ckey][16]byte{}, days: map[personDay][]store.CheckIn{}, venues: map[string]time.Duration{}}
	res := &Result{From: from, To: to, Until: until, Degree: deg, Case: []Stay{}, Contacts: []Contact{}}

	caseStays, err := r.staysOf(req.Pseudonym, from, to)
	if err != nil {
		return nil, err
	}
	var sources []source
	for _, s := range caseStays {
		res.Case = append(res.Case, s)
		sources = append(sources, source{who: req.Pseudonym, stay: s, start: later(s.Start, from), end: earlier(s.End, to)})
	}
	// report is each person's exposure as reported: at the first degree
	// k that reaches them (the fewest hops), the earliest over paths of k
	// hops. spread is the earliest over every path found so far (at most
	// k hops after degree k): what the person passes on at degree k+1.
	report := map[[16]byte]*exposure{}
	spread := map[[16]byte]*exposure{}
	for k := 1; k <= deg && len(sources) > 0; k++ {
		cands, err := r.exposures(sources, k)
		if err != nil {
			return nil, err
		}
		var improved []*exposure
		for _, c := range cands { // by exposure
			if c.who == req.Pseudonym {
				continue
			}
			if b := report[c.who]; b == nil || b.degree == k && c.at.Before(b.at) {
				report[c.who] = c
			}
			if b := spread[c.who]; b == nil || c.at.Before(b.at) {
				spread[c.who] = c
				improved = append(improved, c)
			}
		}
		sources = sources[:0]
		if k == deg {
			break // no one further to expose
		}
		// Only those exposed earlier than before pass on more: the
		// others' onward contacts were found at this degree already.
		var pds []personDay
		for _, e := range improved {
			if spread[e.who] == e {
				for d := daykeys.DayOf(e.at) - 1; d <= daykeys.DayOf(until); d++ {
					pds = append(pds, personDay{e.who, d})
				}
			}
		}
		if err := r.prefetchTags(pds); err != nil {
			return nil, err
		}
		var vs []string
		seen := map[string]bool{}
		for _, pd := range pds {
			for _, c := range r.days[pd] {
				if !seen[c.Venue] {
					seen[c.Venue] = true
					vs = append(vs, c.Venue)
				}
			}
		}
		if err := r.prefetchVenues(vs); err != nil {
			return nil, err
		}
		for _, e := range improved {
			if spread[e.who] != e {
				continue // improved again at this degree
			}
			ss, err := r.staysOf(e.who, e.at, until)
			if err != nil {
				return nil, err
			}
			for _, s := range ss {
				sources = append(sources, source{who: e.who, exp: e, stay: s, start: later(s.Start, e.at), end: earlier(s.End, until)})
			}
		}
	}

	all := make([]*exposure, 0, len(report))
	for _, e := range report {
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b *exposure) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.degree, b.degree), cmp.Compare(a.stay.Venue, b.stay.Venue), bytes.Compare(a.who[:], b.who[:]))
	})
	refs := map[[16]byte]string{req.Pseudonym: CaseRef}
	for i, e := range all {
		refs[e.who] = fmt.Sprintf("C%d", i+1)
	}
	for _, e := range all {
		c := Contact{
			Ref: refs[e.who], Degree: e.degree, Venue: e.stay.Venue, Exposed: e.at,
			OverlapMinutes: int(math.Ceil(e.overlap.Minutes())),
			Stay:           e.stay, Source: e.source, Via: refs[e.via],
			Path:      []Hop{{Ref: CaseRef, Exposed: from}},
			Flagged:   e.stay.Flagged || e.source.Flagged,
			Pseudonym: e.who,
		}
		for _, h := range e.path {
			c.Path = append(c.Path, Hop{Ref: refs[h.who], Venue: h.venue, Exposed: h.at})
		}
		res.Contacts = append(res.Contacts, c)
	}
	res.Stats = r.stats
	return res, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// run is the state of one trace: caches of opened pseudonyms, of people's
// check-ins by day, and of venues' default stays.
type run struct {
	t   *Tracer
	ctx context.Context
	now time.Time // the trace's clock

	mu     sync.Mutex
	opened map[ckey][16]byte // pseudonyms of check-ins (device, seq)
	days   map[personDay][]store.CheckIn
	venues map[string]time.Duration
	stats  Stats
}

type ckey struct {
	device string
	seq    uint64
}

type personDay struct {
	who [16]byte
	day daykeys.Day
}

// defaultStay returns a venue's default stay.
func (r *run) defaultStay(venue string) time.Duration {
	r.mu.Lock()
	d, ok := r.venues[venue]
	r.mu.Unlock()
	if ok {
		return d
	}
	if r.t.venueTTL > 0 {
		r.t.vmu.Lock()
		c, ok := r.t.vcache[venue]
		r.t.vmu.Unlock()
		if ok && time.Since(c.read) < r.t.venueTTL {
			r.mu.Lock()
			r.venues[venue] = c.stay
			r.mu.Unlock()
			return c.stay
		}
	}
	read := time.Now()
	m := 0
	v, err := r.t.st.Venue(r.ctx, venue)
	if err == nil {
		m = v.DefaultStay
		if m <= 0 {
			m = r.t.stays.Of(v.Category)
		}
	}
	if m <= 0 {
		m = r.t.stays.Of(registry.Other)
	}
	d = time.Duration(m) * time.Minute
	r.mu.Lock()
	r.venues[venue] = d
	r.mu.Unlock()
	if r.t.venueTTL > 0 && err == nil {
		r.t.vmu.Lock()
		if r.t.vcache == nil || len(r.t.vcache) > 1<<20 {
			r.t.vcache = map[string]cachedStay{}
		}
		r.t.vcache[venue] = cachedStay{d, read}
		r.t.vmu.Unlock()
	}
	return d
}

// venueBatchStore reads many venues in one query (pgstore does).
type venueBatchStore interface {
	VenuesByID(ctx context.Context, ids []string) ([]store.Venue, error)
}

// prefetchVenues reads the default stays of the venues not known to the
// run yet in batched queries, when the store can: one round trip for
// many instead of one a venue.
func (r *run) prefetchVenues(venues []string) error {
	vs, ok := r.t.st.(venueBatchStore)
	if !ok {
		return nil
	}
	var need []string
	seen := make(map[string]bool, len(venues))
	r.mu.Lock()
	for _, v := range venues {
		if _, ok := r.venues[v]; !ok && !seen[v] {
			seen[v] = true
			need = append(need, v)
		}
	}
	r.mu.Unlock()
	if len(need) < 2 {
		return nil
	}
	for len(need) > 0 {
		chunk := need[:min(venueBatch, len(need))]
		need = need[len(chunk):]
		got, err := vs.VenuesByID(r.ctx, chunk)
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		stays := make(map[string]time.Duration, len(chunk))
		for _, v := range got {
			m := v.DefaultStay
			if m <= 0 {
				m = r.t.stays.Of(v.Category)
			}
			if m <= 0 {
				m = r.t.stays.Of(registry.Other)
			}
			stays[v.ID] = time.Duration(m) * time.Minute
		}
		r.mu.Lock()
		for _, id := range chunk {
			if d, ok := stays[id]; ok {
				r.venues[id] = d
			} // else: defaultStay reads it (not found: the default of Other)
		}
		r.mu.Unlock()
	}
	return nil
}

// venueBatch bounds the venues of one VenuesByID.
const venueBatch = 5000

// staysOf returns who's stays that end after from and start before to,
// read by tag from the day before from's to to's, and the next day's too
// when an entry may end with an exit scanned then.
func (r *run) staysOf(who [16]byte, from, to time.Time) ([]Stay, error) {
	var rs []store.CheckIn
	last := daykeys.DayOf(to)
	for d := daykeys.DayOf(from) - 1; d <= last; d++ {
		day, err := r.checkInsOf(who, d)
		if err != nil {
			return nil, err
		}
		rs = append(rs, day...)
	}
	if next := last + 1; next.Start().Before(r.now) && openEntry(rs, to, next.Start()) {
		day, err := r.checkInsOf(who, next)
		if err != nil {
			return nil, err
		}
		rs = append(rs, day...)
	}
	var out []Stay
	for _, s := range stays(rs, r.defaultStay) {
		if s.End.After(from) && s.Start.Before(to) {
			out = append(out, s)
		}
	}
	return out, nil
}

// openEntry reports whether one of rs (one person's, sorted by time) is
// an entry before to with no later check-in at its venue in rs, whose exit
// could come at end or after (less than ExitHorizon after it).
func openEntry(rs []store.CheckIn, to, end time.Time) bool {
	var seen []string // venues with a later check-in
	for i := len(rs) - 1; i >= 0; i-- {
		c := rs[i]
		if !c.Time.Add(ExitHorizon).After(end) {
			return false // and every earlier one
		}
		if c.Kind == checkin.Entry && c.Time.Before(to) && !slices.Contains(seen, c.Venue) {
			return true
		}
		seen = append(seen, c.Venue)
	}
	return false
}

// checkInsOf returns who's check-ins of day d (none when its key is
// destroyed).
func (r *run) checkInsOf(who [16]byte, d daykeys.Day) ([]store.CheckIn, error) {
	k := personDay{who, d}
	if rs, ok := r.days[k]; ok {
		return rs, nil
	}
	tag, err := r.t.keys.Tag(d, who)
	if errors.Is(err, daykeys.ErrDestroyed) {
		r.days[k] = nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trace: tag of %s: %w", d, err)
	}
	rs, err := r.t.st.CheckInsByTag(r.ctx, d.Start(), tag)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	r.stats.TagQueries++
	r.stats.CheckIns += len(rs)
	for _, c := range rs { // a person's own check-ins need no opening
		r.opened[ckey{c.Device, c.Seq}] = who
	}
	r.days[k] = rs
	return rs, nil
}

// prefetchTags reads the check-ins of the people's days not read yet,
// a batched query per day, when the store can.
func (r *run) prefetchTags(pds []personDay) error {
	bs, ok := r.t.st.(batchStore)
	if !ok || len(pds) < 2 {
		return nil
	}
	byDay := map[daykeys.Day][]personDay{}
	var days []daykeys.Day
	for _, pd := range pds {
		if _, ok := r.days[pd]; ok {
			continue
		}
		if byDay[pd.day] == nil {
			days = append(days, pd.day)
		}
		r.days[pd] = nil // at most once
		byDay[pd.day] = append(byDay[pd.day], pd)
	}
	slices.Sort(days)
	type job struct {
		day   daykeys.Day
		chunk []personDay
		tags  [][16]byte
	}
	var jobs []job
	for _, d := range days {
		list := byDay[d]
		for len(list) > 0 {
			chunk := list[:min(batchSize, len(list))]
			list = list[len(chunk):]
			tags := make([][16]byte, 0, len(chunk))
			for _, pd := range chunk {
				tag, err := r.t.keys.Tag(d, pd.who)
				if errors.Is(err, daykeys.ErrDestroyed) {
					chunk = nil
					break
				}
				if err != nil {
					return fmt.Errorf("trace: tag of %s: %w", d, err)
				}
				tags = append(tags, tag)
			}
			if len(chunk) == 0 {
				break
			}
			jobs = append(jobs, job{d, chunk, tags})
		}
	}
	results := make([][][]store.CheckIn, len(jobs))
	err := fetchAll(len(jobs), func(i int) (err error) {
		results[i], err = bs.CheckInsByTags(r.ctx, jobs[i].day.Start(), jobs[i].tags)
		return err
	})
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	for ji, j := range jobs {
		r.stats.TagQueries++
		for i, pd := range j.chunk {
			rs := results[ji][i]
			if rs == nil {
				rs = []store.CheckIn{}
			}
			r.stats.CheckIns += len(rs)
			for _, c := range rs {
				r.opened[ckey{c.Device, c.Seq}] = pd.who
			}
			r.days[pd] = rs
		}
	}
	return nil
}

// fetchParallel is how many batched queries a trace runs at once.
const fetchParallel = 4

// fetchAll runs fetch(0) … fetch(n−1), fetchParallel at a time, and
// returns their errors joined.
func fetchAll(n int, fetch func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, fetchParallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = fetch(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pseudonym opens the sealed part of c (cached per device and sequence).
func (r *run) pseudonym(c store.CheckIn) ([16]byte, bool) {
	k := ckey{c.Device, c.Seq}
	r.mu.Lock()
	p, ok := r.opened[k]
	r.mu.Unlock()
	if ok {
		return p, true
	}
	plain, err := r.t.keys.Open(daykeys.DayOf(c.Time), c.Sealed, daykeys.AD(c.Device, c.Seq))
	var pers checkin.Personal
	if err == nil {
		pers, err = checkin.ParsePersonal(plain)
		clear(plain)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.stats.Unreadable++
		return p, false
	}
	r.stats.Opened++
	r.opened[k] = pers.Pseudonym
	return pers.Pseudonym, true
}

// exposures finds, for sources grouped by venue, every stay of someone
// else that overlaps one: candidates of degree k, in a deterministic
// order (exposure, venue, source order).
func (r *run) exposures(sources []source, k int) ([]*exposure, error) {
	byVenue := map[string][]source{}
	var venues []string
	for _, s := range sources {
		if !s.start.Before(s.end) {
			continue
		}
		if byVenue[s.stay.Venue] == nil {
			venues = append(venues, s.stay.Venue)
		}
		byVenue[s.stay.Venue] = append(byVenue[s.stay.Venue], s)
	}
	slices.Sort(venues)
	if err := r.prefetchVenues(venues); err != nil {
		return nil, err
	}
	fetched, err := r.prefetch(venues, byVenue)
	if err != nil {
		return nil, err
	}
	results := make([][]*exposure, len(venues))
	errs := make([]error, len(venues))
	sem := make(chan struct{}, r.t.parallel)
	var wg sync.WaitGroup
	for i, v := range venues {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = r.atVenue(v, byVenue[v], k, fetched)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []*exposure
	for _, rs := range results {
		out = append(out, rs...)
	}
	slices.SortStableFunc(out, func(a, b *exposure) int { return a.at.Compare(b.at) })
	return out, nil
}

// atVenue finds the exposures at one venue: it reads the venue's
// check-ins once per cluster of sources (sources whose windows overlap;
// prefetched in batches when the store can), pairs them into stays per
// person and matches them to the sources. Only the people whose stays may
// overlap a source have their sealed parts opened: check-ins are grouped
// by (day, tag) first, a tag naming one pseudonym within a day, and the
// groups one stay spans across midnight joined (see link). Of each
// person it returns one exposure, the first found of the earliest: the
// one Trace would keep of all of them.
func (r *run) atVenue(venue string, srcs []source, k int, fetched map[window][]store.CheckIn) ([]*exposure, error) {
	type cand struct {
		who     [16]byte
		at      time.Time
		overlap time.Duration
		stay    Stay
		src     *source
		gen     int // the order found in
	}
	var cands []cand
	gen := 0
	index := map[[16]byte]int{}
	type personStay struct {
		who [16]byte
		s   Stay
	}
	var all []personStay
	people := map[[16]byte][]store.CheckIn{}
	groups := map[group][]store.CheckIn{}
	counts := map[group]int{}
	var gs []group
	for _, cl := range r.clusters(srcs) {
		cluster, lo, hi := srcs[cl.i:cl.j], cl.lo, cl.hi
		w := window{venue, cl.from, cl.to}
		rs, ok := fetched[w]
		if !ok {
			var err error
			if rs, err = r.t.st.CheckInsAt(r.ctx, venue, w.from, w.to); err != nil {
				return nil, fmt.Errorf("trace: %w", err)
			}
			r.mu.Lock()
			r.stats.VenueQueries++
			r.stats.CheckIns += len(rs)
			r.mu.Unlock()
		}
		// Open only the check-ins of people who may have met a source:
		// group by day and tag (a tag names one pseudonym within a day),
		// join the groups of one person that a stay spans across midnight,
		// and open a unit when one of its stays overlaps a source.
		// Each group a part of one array, sized by a first count: no
		// growing of slices of large structs.
		clear(groups)
		clear(counts)
		gs = gs[:0]
		for _, c := range rs {
			g := group{daykeys.DayOf(c.Time), c.Tag}
			gs = append(gs, g)
			counts[g]++
		}
		backing := make([]store.CheckIn, len(rs))
		off := 0
		for i, c := range rs {
			g := gs[i]
			cs, ok := groups[g]
			if !ok {
				n := counts[g]
				cs, off = backing[off:off:off+n], off+n
			}
			groups[g] = append(cs, c)
		}
		next, err := r.link(groups, lo, hi)
		if err != nil {
			return nil, err
		}
		clear(people)
		for g, cs := range groups {
			if next[g].joined {
				continue // part of the previous day's unit
			}
			for n := next[g]; n.to != (group{}); n = next[n.to] {
				cs = append(slices.Clip(cs), groups[n.to]...)
			}
			if !mayMeet(stays(cs, r.defaultStay), cluster) {
				continue
			}
			for _, c := range cs {
				if p, ok := r.pseudonym(c); ok {
					people[p] = append(people[p], c)
				}
			}
		}
		all = all[:0]
		for p, cs := range people {
			for _, s := range stays(cs, r.defaultStay) {
				if s.Start.Before(hi) && s.End.After(lo) {
					all = append(all, personStay{p, s})
				}
			}
		}
		slices.SortFunc(all, func(a, b personStay) int {
			return cmp.Or(a.s.Start.Compare(b.s.Start), bytes.Compare(a.who[:], b.who[:]))
		})
		for si := range cluster {
			src := &cluster[si]
			for _, ps := range all {
				if !ps.s.Start.Before(src.end) {
					break
				}
				if ps.who == src.who || !ps.s.End.After(src.start) {
					continue
				}
				at := later(ps.s.Start, src.start)
				overlap := earlier(ps.s.End, src.end).Sub(at)
				if overlap <= 0 {
					continue
				}
				gen++
				if x, ok := index[ps.who]; ok {
					if !at.Before(cands[x].at) {
						continue
					}
					cands[x] = cand{ps.who, at, overlap, ps.s, src, gen}
					continue
				}
				index[ps.who] = len(cands)
				cands = append(cands, cand{ps.who, at, overlap, ps.s, src, gen})
			}
		}
	}
	// In the order found, as if every candidate were returned.
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.gen, b.gen)) })
	out := make([]*exposure, len(cands))
	es := make([]exposure, len(cands))
	for i, c := range cands {
		e := &es[i]
		*e = exposure{who: c.who, at: c.at, degree: k, overlap: c.overlap, stay: c.stay, source: c.src.stay, via: c.src.who}
		if c.src.exp != nil {
			e.path = make([]hop, len(c.src.exp.path), len(c.src.exp.path)+1)
			copy(e.path, c.src.exp.path)
		}
		e.path = append(e.path, hop{who: c.who, venue: venue, at: c.at})
		out[i] = e
	}
	return out, nil
}

// group is the check-ins of one tag on one day: one person's.
type group struct {
	day daykeys.Day
	tag [16]byte
}

// link is a group's place in a chain of one person's groups on
// consecutive days: to is the next day's group (zero: none), joined says
// whether the previous day's group leads to this one.
type link struct {
	to     group
	joined bool
}

// link finds the groups of one venue's check-ins that a stay joins across
// midnight: a day's group of a person ending with an entry and the next
// day's starting with an exit. Few groups start with an exit; link opens
// such a group's exit and looks the person's tag of the day before up
// among the groups. It skips the exits whose entry's stay, paired or not,
// cannot overlap [lo, hi]: that stay lies within [exit − ExitHorizon,
// start of the exit's day + MaxStay).
func (r *run) link(groups map[group][]store.CheckIn, lo, hi time.Time) (map[group]link, error) {
	var out map[group]link
	for g, cs := range groups {
		x := cs[0]
		if x.Kind != checkin.Exit || !x.Time.Add(-ExitHorizon).Before(hi) || !g.day.Start().Add(MaxStay).After(lo) {
			continue
		}
		p, ok := r.pseudonym(x)
		if !ok {
			continue
		}
		tag, err := r.t.keys.Tag(g.day-1, p)
		if errors.Is(err, daykeys.ErrDestroyed) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("trace: tag of %s: %w", g.day-1, err)
		}
		prev := group{g.day - 1, tag}
		if ps := groups[prev]; len(ps) == 0 || ps[len(ps)-1].Kind != checkin.Entry {
			continue
		}
		if out == nil {
			out = map[group]link{}
		}
		l := out[prev]
		l.to = g
		out[prev] = l
		l = out[g]
		l.joined = true
		out[g] = l
	}
	return out, nil
}

// mayMeet reports whether one of ss overlaps one of srcs (sorted by
// start), as atVenue's matching would find it.
func mayMeet(ss []Stay, srcs []source) bool {
	for _, s := range ss {
		for _, src := range srcs {
			if !src.start.Before(s.End) {
				break // and every later source
			}
			if s.Start.Before(src.end) && earlier(s.End, src.end).Sub(later(s.Start, src.start)) > 0 {
				return true
			}
		}
	}
	return false
}

// window is a venue's check-ins to read: [from, to).
type window struct {
	venue    string
	from, to time.Time
}

// cluster is a run of sources at a venue, srcs[i:j] (sorted by start),
// whose windows overlap: one look-up of the window [from, to) finds every
// stay that can overlap one of them, from lo to hi, with its exit.
type cluster struct {
	i, j     int
	lo, hi   time.Time
	from, to time.Time
}

// clusters sorts srcs by start and groups them. A stay lasts at most
// MaxStay, so an entry more than that before lo cannot overlap; an exit
// ends a stay only if less than ExitHorizon after its entry, which is
// before hi: the window [lo − MaxStay, hi + ExitHorizon) holds every
// check-in of a stay that can overlap, and every entry's next check-in
// that could be its exit.
func (r *run) clusters(srcs []source) []cluster {
	slices.SortStableFunc(srcs, func(a, b source) int { return a.start.Compare(b.start) })
	var out []cluster
	for i := 0; i < len(srcs); {
		lo, hi := srcs[i].start, srcs[i].end
		j := i + 1
		for ; j < len(srcs) && srcs[j].start.Add(-MaxStay).Before(hi.Add(ExitHorizon)); j++ {
			hi = later(hi, srcs[j].end)
		}
		out = append(out, cluster{i: i, j: j, lo: lo, hi: hi, from: lo.Add(-MaxStay), to: hi.Add(ExitHorizon)})
		i = j
	}
	return out
}

// batchStore reads many windows or tags in one query (pgstore does).
type batchStore interface {
	CheckInsAtMany(ctx context.Context, venues []string, from, to []time.Time) ([][]store.CheckIn, error)
	CheckInsByTags(ctx context.Context, day time.Time, tags [][16]byte) ([][]store.CheckIn, error)
}

// batchSize bounds the windows or tags of one batched query: several
// run at once (fetchParallel).
const batchSize = 500

// prefetch reads the windows of every venue's clusters in batched
// queries when the store can (nil otherwise: atVenue reads them). A
// cluster's window starts MaxStay before its first source, for the long
// stays; but a stay that began more than the venue's default stay before
// the cluster's start lo overlaps it only if it ended with an exit after
// lo, and that exit is then the person's first check-in at the venue
// after the window's start. So prefetch reads each window from lo less
// the venue's (bounded) default stay first, and the earlier part only for
// the clusters where a person's first check-in there (by day and tag) is
// an exit at or after lo that may end a stay begun earlier (needsEarlier):
// atVenue then sees every check-in of every stay that can overlap, paired
// as in the whole window. It keys the check-ins by the whole window.
func (r *run) prefetch(venues []string, byVenue map[string][]source) (map[window][]store.CheckIn, error) {
	bs, ok := r.t.st.(batchStore)
	if !ok || len(venues) < 2 {
		return nil, nil
	}
	type part struct {
		whole window
		lo    time.Time
		main  window // the window from lo less the default stay
	}
	var parts []part
	for _, v := range venues {
		d := bound(r.defaultStay(v))
		for _, cl := range r.clusters(byVenue[v]) {
			parts = append(parts, part{window{v, cl.from, cl.to}, cl.lo, window{v, later(cl.from, cl.lo.Add(-d)), cl.to}})
		}
	}
	mains := make([]window, len(parts))
	for i, p := range parts {
		mains[i] = p.main
	}
	got, err := r.fetchWindows(bs, mains)
	if err != nil {
		return nil, err
	}
	var need []int
	var earlier []window
	for i, p := range parts {
		if p.main.from.After(p.whole.from) && needsEarlier(got[i], p.lo, p.main.from) {
			need = append(need, i)
			earlier = append(earlier, window{p.whole.venue, p.whole.from, p.main.from})
		}
	}
	before, err := r.fetchWindows(bs, earlier)
	if err != nil {
		return nil, err
	}
	out := make(map[window][]store.CheckIn, len(parts))
	for i, p := range parts {
		out[p.whole] = got[i]
	}
	for j, i := range need {
		out[parts[i].whole] = append(before[j], got[i]...)
	}
	return out, nil
}

// needsEarlier reports whether rs, the check-ins of a venue from from on
// (sorted by time), may lack the entry of a stay that overlaps a cluster
// starting at lo: whether the first check-in of a (day, tag) in rs is an
// exit at or after lo less than ExitHorizon after from.
func needsEarlier(rs []store.CheckIn, lo, from time.Time) bool {
	seen := map[group]bool{}
	for _, c := range rs {
		g := group{daykeys.DayOf(c.Time), c.Tag}
		if seen[g] {
			continue
		}
		seen[g] = true
		if c.Kind == checkin.Exit && !c.Time.Before(lo) && c.Time.Add(-ExitHorizon).Before(from) {
			return true
		}
	}
	return false
}

// fetchWindows reads ws in batched queries, several at once: out[i] are
// the check-ins of ws[i].
func (r *run) fetchWindows(bs batchStore, ws []window) ([][]store.CheckIn, error) {
	out := make([][]store.CheckIn, 0, len(ws))
	var chunks [][]window
	for len(ws) > 0 {
		chunk := ws[:min(batchSize, len(ws))]
		ws = ws[len(chunk):]
		chunks = append(chunks, chunk)
	}
	results := make([][][]store.CheckIn, len(chunks))
	err := fetchAll(len(chunks), func(i int) (err error) {
		chunk := chunks[i]
		vs := make([]string, len(chunk))
		fs := make([]time.Time, len(chunk))
		ts := make([]time.Time, len(chunk))
		for j, w := range chunk {
			vs[j], fs[j], ts[j] = w.venue, w.from, w.to
		}
		results[i], err = bs.CheckInsAtMany(r.ctx, vs, fs, ts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	for i, chunk := range chunks {
		for j := range chunk {
			out = append(out, results[i][j])
			r.stats.CheckIns += len(results[i][j])
		}
		r.stats.VenueQueries += len(chunk)
	}
	return out, nil
}

// sortCheckIns sorts by (Time, Device, Seq).
func sortCheckIns(rs []store.CheckIn) { slices.SortFunc(rs, compareCheckIns) }

// compareCheckIns orders check-ins by (Time, Device, Seq).
func compareCheckIns(a, b store.CheckIn) int {
	return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Device, b.Device), cmp.Compare(a.Seq, b.Seq))
}
