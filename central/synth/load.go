package synth

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// event is one scan of a day: second of the KST day, venue, person
// (residents first, then tourists), kind.
type event struct {
	venue int32
	sec   int32
	who   uint32
	kind  checkin.Kind
}

// touristStay is how many days tourist t stays: 2 to 5.
func touristStay(t uint64) int { return 2 + int(mix(t)%4) }

func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb3fe1a85ec53
	return x ^ x>>33
}

// dayEvents generates the scans of day index di (0 = First), in (venue,
// time) order: PerDay of them, less those after Config.Now.
func (p *Province) dayEvents(di int) []event {
	cfg := p.cfg
	rng := rand.New(rand.NewPCG(cfg.Seed^0xda7, uint64(di)))
	wd := (cfg.First + daykeys.Day(di)).Start().In(daykeys.KST).Weekday()
	weekday := wd != time.Saturday && wd != time.Sunday
	out := make([]event, 0, cfg.PerDay)
	areaTourists := cumulative(func(a area) float64 { return a.tourists })
	areaVenues := cumulative(func(a area) float64 { return a.venues })
	// Tourists make about a third of the entries when the island is full.
	touristShare := 0.0
	if cfg.Tourists > 0 {
		touristShare = min(0.35, float64(cfg.Tourists)*3.5*3/float64(max(cfg.PerDay, 1)))
	}
	for len(out) < cfg.PerDay {
		var e event
		stayMin := 0
		if rng.Float64() < touristShare {
			// A tourist present today: arrived k days ago.
			var t uint64
			var k int
			for {
				k = rng.IntN(5)
				t = uint64(di-k+5)*uint64(cfg.Tourists) + uint64(rng.IntN(cfg.Tourists))
				if k < touristStay(t) {
					break
				}
			}
			e.who = uint32(cfg.People) + uint32(t)
			a := 0 // arrival day: Jeju City, by the airport
			if k > 0 {
				h := mix(t ^ uint64(di)<<40)
				x := float64(h%1_000_000) / 1_000_000 * areaTourists[len(areaTourists)-1]
				a, _ = slices.BinarySearch(areaTourists, x)
				a = min(a, len(areas)-1)
			}
			for len(p.byArea[a]) == 0 {
				a = (a + 1) % len(areas)
			}
			e.venue = p.byArea[a][rng.IntN(len(p.byArea[a]))]
		} else {
			i := pickWeighted(rng, p.weights)
			pp := &p.people[i]
			e.who = uint32(i)
			switch x := rng.Float64(); {
			case weekday && pp.routine >= 0 && x < 0.35:
				e.venue = pp.routine
				stayMin = int(pp.minute) + rng.IntN(41) - 20
			case x < 0.8:
				e.venue = pp.regular[rng.IntN(len(pp.regular))]
			default:
				a := pick(rng, areaVenues)
				if len(p.byArea[a]) == 0 {
					a = int(pp.area)
				}
				e.venue = p.byArea[a][rng.IntN(len(p.byArea[a]))]
			}
		}
		v := &p.Venues[e.venue]
		h := categoryHours[v.Category]
		minute := stayMin
		if minute < h.open || minute >= h.close {
			minute = h.open + rng.IntN(max(1, h.close-h.open))
		}
		e.sec = int32(minute*60 + rng.IntN(60))
		e.kind = checkin.Entry
		out = append(out, e)
		if len(out) < cfg.PerDay && rng.Float64() < cfg.ExitShare {
			stay := float64(v.DefaultStay*60) * (0.4 + 1.2*rng.Float64())
			x := e
			x.kind = checkin.Exit
			x.sec = min(e.sec+int32(stay), 24*3600-1)
			out = append(out, x)
		}
	}
	// Nothing after now: the last day (today) ends with the clock, and
	// every scan's time (under a second after its second) and receipt (2
	// s later) are at or before now.
	limit := cfg.Now().Sub((cfg.First + daykeys.Day(di)).Start())
	out = slices.DeleteFunc(out, func(e event) bool { return time.Duration(e.sec+3)*time.Second > limit })
	slices.SortFunc(out, func(a, b event) int {
		return cmp.Or(cmp.Compare(a.venue, b.venue), cmp.Compare(a.sec, b.sec), cmp.Compare(a.kind, b.kind))
	})
	return out
}

// events returns the scans of day index di, from the cache of the days
// that PickCases looked at (which it empties) or made anew.
func (p *Province) events(di int) []event {
	if evs, ok := p.cache[di]; ok {
		delete(p.cache, di)
		return evs
	}
	return p.dayEvents(di)
}

func pickWeighted(rng *rand.Rand, cum []float64) int {
	x := rng.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, x)
	return min(i, len(cum)-1)
}

// pseudonymOf returns the pseudonym of a person of the scans (a resident
// or a tourist).
func (p *Province) pseudonymOf(who uint32) [16]byte {
	if int(who) < len(p.people) {
		return p.people[who].pseudonym
	}
	return PseudonymOf(p.cfg.Seed, uint64(who))
}

// Load writes the check-ins of every day through bulk (or st.Ingest when
// the store has no bulk path), sealed and tagged with keys as ingest
// does, after registering the venues and kiosks. The devices must be
// fresh (no check-ins yet). No check-in is later than Config.Now: today's
// stop there, and days after it have none.
func (p *Province) Load(ctx context.Context, st store.Store, keys Keys) (*Stats, error) {
	cfg := p.cfg
	if err := p.Register(ctx, st, 8); err != nil {
		return nil, fmt.Errorf("synth: register: %w", err)
	}
	stats := &Stats{Venues: len(p.Venues), Devices: len(p.Venues), People: len(p.people), First: cfg.First}
	seqs := make([]uint64, len(p.Venues))
	heads := make([]checkin.Hash, len(p.Venues))
	boots := make([][16]byte, len(p.Venues))
	for i, v := range p.Venues {
		heads[i] = checkin.Genesis(v.Device)
		h := mix(cfg.Seed ^ uint64(i))
		for j := range 16 {
			boots[i][j] = byte(h >> (8 * (j % 8)))
		}
	}
	tourists := map[uint32]bool{}
	total := int64(cfg.PerDay) * int64(cfg.Days)
	start := time.Now()
	var done int64
	for di := range cfg.Days {
		day := cfg.First + daykeys.Day(di)
		d0 := day.Start()
		evs := p.events(di)
		total += int64(len(evs) - cfg.PerDay) // today, cut at now
		for from := 0; from < len(evs); from += cfg.Chunk {
			chunk := evs[from:min(from+cfg.Chunk, len(evs))]
			rs := make([]store.CheckIn, len(chunk))
			for i, e := range chunk {
				seqs[e.venue]++
				t := d0.Add(time.Duration(e.sec)*time.Second + time.Duration(mix(uint64(e.who)^uint64(e.sec))%1000)*time.Millisecond)
				v := &p.Venues[e.venue]
				rs[i] = store.CheckIn{Device: v.Device, Seq: seqs[e.venue], Venue: v.ID, Kind: e.kind,
					RawWall: t, Quality: checkin.NTPSynced, Boot: boots[e.venue], Mono: t.Sub(d0) + 6*time.Hour,
					Time: t, Received: t.Add(2 * time.Second)}
				if int(e.who) >= len(p.people) {
					tourists[e.who] = true
				}
				if e.kind == checkin.Entry {
					stats.Entries++
				} else {
					stats.Exits++
				}
			}
			if err := p.seal(rs, chunk, day, keys); err != nil {
				return nil, err
			}
			for i := range rs { // the chain, in order per device
				vi := chunk[i].venue
				rec := checkin.Record{Device: rs[i].Device, Seq: rs[i].Seq, Venue: rs[i].Venue, Wall: rs[i].RawWall,
					Quality: rs[i].Quality, Boot: rs[i].Boot, Mono: rs[i].Mono, Kind: rs[i].Kind, Sealed: rs[i].Sealed}
				canon, err := rec.AppendBinary(nil)
				if err != nil {
					return nil, fmt.Errorf("synth: record %s/%d: %w", rs[i].Device, rs[i].Seq, err)
				}
				heads[vi] = checkin.Next(heads[vi], canon)
				rs[i].Hash = heads[vi]
			}
			if err := write(ctx, st, rs); err != nil {
				return nil, fmt.Errorf("synth: day %s: %w", day, err)
			}
			done += int64(len(rs))
			stats.CheckIns += int64(len(rs))
			if cfg.Progress != nil {
				cfg.Progress(Progress{Done: done, Total: total, Elapsed: time.Since(start)})
			}
		}
		stats.PerDay = append(stats.PerDay, int64(len(evs)))
	}
	stats.Tourists = len(tourists)
	stats.Elapsed = time.Since(start)
	return stats, nil
}

// seal seals and tags rs (the scans of chunk, of day) on two workers.
func (p *Province) seal(rs []store.CheckIn, chunk []event, day daykeys.Day, keys Keys) error {
	const workers = 2
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			buf := make([]byte, 0, checkin.PersonalLen)
			for i := w; i < len(rs); i += workers {
				pers := checkin.Personal{Pseudonym: p.pseudonymOf(chunk[i].who), PassKind: 1}
				sealed, err := keys.Seal(day, pers.AppendBinary(buf[:0]), daykeys.AD(rs[i].Device, rs[i].Seq))
				if err != nil {
					errs[w] = err
					return
				}
				tag, err := keys.Tag(day, pers.Pseudonym)
				if err != nil {
					errs[w] = err
					return
				}
				rs[i].Sealed, rs[i].Tag = sealed, tag
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("synth: seal: %w", err)
		}
	}
	return nil
}

// write stores rs through the bulk path, or by device through Ingest.
func write(ctx context.Context, st store.Store, rs []store.CheckIn) error {
	if b, ok := st.(Bulk); ok {
		_, err := b.BulkLoad(ctx, rs)
		return err
	}
	byDev := map[string][]store.CheckIn{}
	for _, r := range rs {
		byDev[r.Device] = append(byDev[r.Device], r)
	}
	for dev, rs := range byDev {
		last := rs[len(rs)-1]
		if _, err := st.Ingest(ctx, store.Batch{Device: dev, Records: rs, LastSeq: last.Seq, LastHash: last.Hash}); err != nil {
			return err
		}
	}
	return nil
}
