// Package synth builds a synthetic province for load and tracing
// benchmarks: registered venues with one enrolled kiosk each, residents
// with homes and habits, tourists arriving through the airport, and their
// check-ins, sealed and tagged under the day keys exactly as ingest stores
// them, written through the store's bulk path.
//
// The scenario is a function of Config (Seed included); only the nonces
// of the sealed parts are random.
package synth

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// Config is the scale and shape of a province.
type Config struct {
	Venues int // registered venues, one kiosk each
	People int // residents
	Days   int // days of check-ins, the last one ending before today
	PerDay int // check-ins a day (entries and exits)
	// First is the first day (default: Days days before today's KST day).
	First daykeys.Day
	Seed  uint64
	// Tourists is how many tourists arrive a day (default People/25:
	// 40,000 for a million).
	Tourists int
	// ExitShare is the share of stays that scan out (default 0.2).
	ExitShare float64
	// Chunk is how many check-ins go to the store at once (default 50,000).
	Chunk int
	// Progress, if set, is called after every chunk.
	Progress func(Progress)
	// Now is the clock (default time.Now): no check-in is later, and
	// First's default counts back from its day.
	Now func() time.Time
}

// Progress reports a load's progress.
type Progress struct {
	Done, Total int64
	Elapsed     time.Duration
}

// Rate is the check-ins stored per second so far.
func (p Progress) Rate() float64 { return float64(p.Done) / max(p.Elapsed.Seconds(), 1e-9) }

// ETA is the estimated time left.
func (p Progress) ETA() time.Duration {
	if p.Done == 0 {
		return 0
	}
	return time.Duration(float64(p.Elapsed) * float64(p.Total-p.Done) / float64(p.Done))
}

// Stats count what a load stored.
type Stats struct {
	Venues, Devices, People, Tourists int
	CheckIns, Entries, Exits          int64
	PerDay                            []int64
	First                             daykeys.Day
	Elapsed                           time.Duration // of the check-ins
}

// Bulk is a store's bulk path (boltstore and pgstore): it stores fresh
// check-ins of any devices, each device's ascending and above its state.
type Bulk interface {
	BulkLoad(ctx context.Context, rs []store.CheckIn) (int, error)
}

// Keys seal and tag check-ins: *daykeys.Keys.
type Keys interface {
	Tag(d daykeys.Day, pseudonym [16]byte) ([16]byte, error)
	Seal(d daykeys.Day, plaintext, ad []byte) ([]byte, error)
}

// area is a town of the island.
type area struct {
	name     string
	loc      registry.Location
	radiusKm float64
	people   float64 // share of residents
	venues   float64 // share of venues
	tourists float64 // attraction for tourists
}

// areas: Jeju City about half the people, Seogwipo, and the towns.
var areas = []area{
	{"Jeju City", registry.JejuCity, 5, 0.50, 0.46, 0.22},
	{"Seogwipo", registry.Location{Lat: 33.2541, Lon: 126.5600}, 4, 0.16, 0.17, 0.22},
	{"Aewol", registry.Location{Lat: 33.4636, Lon: 126.3306}, 3, 0.05, 0.05, 0.10},
	{"Hallim", registry.Location{Lat: 33.4106, Lon: 126.2694}, 2.5, 0.04, 0.04, 0.07},
	{"Hangyeong", registry.Location{Lat: 33.3420, Lon: 126.1900}, 2, 0.02, 0.02, 0.03},
	{"Daejeong", registry.Location{Lat: 33.2200, Lon: 126.2550}, 2.5, 0.03, 0.03, 0.04},
	{"Andeok", registry.Location{Lat: 33.2560, Lon: 126.3560}, 2, 0.02, 0.02, 0.04},
	{"Namwon", registry.Location{Lat: 33.2800, Lon: 126.7200}, 2, 0.02, 0.02, 0.03},
	{"Pyoseon", registry.Location{Lat: 33.3260, Lon: 126.8340}, 2, 0.02, 0.02, 0.03},
	{"Seongsan", registry.Location{Lat: 33.4589, Lon: 126.9100}, 2, 0.02, 0.03, 0.10},
	{"Gujwa", registry.Location{Lat: 33.5300, Lon: 126.8000}, 2.5, 0.02, 0.02, 0.04},
	{"Jocheon", registry.Location{Lat: 33.5330, Lon: 126.6350}, 2.5, 0.04, 0.04, 0.03},
	{"Ora", registry.Location{Lat: 33.4760, Lon: 126.4900}, 2, 0.06, 0.08, 0.05},
}

// Airport is Jeju International Airport.
var Airport = registry.Location{Lat: 33.5113, Lon: 126.4930}

// hours are a category's opening hours, in minutes of the KST day, and
// its weight among venues.
type hours struct {
	open, close int
	weight      float64
}

var categoryHours = map[registry.Category]hours{
	registry.Restaurant: {11 * 60, 22 * 60, 0.34},
	registry.Cafe:       {8 * 60, 23 * 60, 0.22},
	registry.Bar:        {17 * 60, 24*60 - 1, 0.08},
	registry.Bathhouse:  {5 * 60, 22 * 60, 0.03},
	registry.Gym:        {6 * 60, 23 * 60, 0.05},
	registry.Karaoke:    {13 * 60, 24*60 - 1, 0.04},
	registry.PCRoom:     {9 * 60, 24*60 - 1, 0.04},
	registry.Church:     {7 * 60, 21 * 60, 0.03},
	registry.Academy:    {14 * 60, 22 * 60, 0.05},
	registry.Other:      {9 * 60, 21 * 60, 0.12},
}

// Venue is a synthetic venue.
type Venue struct {
	store.Venue
	Device string
	area   int
}

// Province is a generated scenario, before or after loading.
type Province struct {
	cfg     Config
	Venues  []Venue
	byArea  [][]int32 // venue indexes of each area, west to east
	people  []person
	weights []float64       // cumulative activity of residents
	cache   map[int][]event // scans of the days PickCases looked at
}

type person struct {
	pseudonym [16]byte
	area      int32
	home      int32    // position in byArea[area]
	regular   [5]int32 // venue indexes
	routine   int32    // venue of the weekday routine, -1 for none
	minute    int16    // of the routine
}

func (c *Config) defaults() {
	if c.First == 0 {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		c.First = daykeys.DayOf(now()) - daykeys.Day(c.Days) + 1
	}
	if c.Tourists == 0 {
		c.Tourists = c.People / 25
	}
	if c.ExitShare == 0 {
		c.ExitShare = 0.2
	}
	if c.Chunk <= 0 {
		c.Chunk = 50_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate checks the scale.
func (c Config) Validate() error {
	switch {
	case c.Venues < 1 || c.Venues > 999_999:
		return fmt.Errorf("synth: venues %d: want 1 to 999,999", c.Venues)
	case c.People < 1:
		return fmt.Errorf("synth: people %d: want at least 1", c.People)
	case c.Days < 1 || c.Days > 28:
		return fmt.Errorf("synth: days %d: want 1 to 28 (retention)", c.Days)
	case c.PerDay < 0:
		return fmt.Errorf("synth: per-day %d: want at least 0", c.PerDay)
	case c.ExitShare < 0 || c.ExitShare > 1:
		return fmt.Errorf("synth: exit share %g: want 0 to 1", c.ExitShare)
	}
	return nil
}

// New generates the province of cfg: venues and residents (no check-ins
// yet).
func New(cfg Config) (*Province, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Province{cfg: cfg, byArea: make([][]int32, len(areas))}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5e9d))
	cats := registry.Categories()
	var catCum []float64
	acc := 0.0
	for _, c := range cats {
		acc += categoryHours[c].weight
		catCum = append(catCum, acc)
	}
	areaVenues := cumulative(func(a area) float64 { return a.venues })
	created := cfg.First.Start().Add(-24 * time.Hour)
	for i := range cfg.Venues {
		a := pick(rng, areaVenues)
		c := cats[pick(rng, catCum)]
		id := fmt.Sprintf("jv%06d", i+1)
		v := Venue{Venue: store.Venue{
			ID:             id,
			Name:           fmt.Sprintf("%s %s %d", areas[a].name, c, i+1),
			BusinessNumber: BusinessNumber(i + 1),
			Address:        fmt.Sprintf("%d %s-ro, %s, Jeju", 1+rng.IntN(400), areas[a].name, areas[a].name),
			Category:       c,
			DefaultStay:    c.DefaultStay(),
			Location:       around(rng, areas[a].loc, areas[a].radiusKm),
			OwnerPhone:     fmt.Sprintf("+8210%08d", rng.IntN(100_000_000)),
			Status:         registry.StatusApproved,
			Created:        created,
			Updated:        created,
		}, Device: "k-" + id, area: a}
		p.Venues = append(p.Venues, v)
		p.byArea[a] = append(p.byArea[a], int32(i))
	}
	for a := range p.byArea {
		slices.SortFunc(p.byArea[a], func(x, y int32) int {
			return cmp.Compare(p.Venues[x].Location.Lon, p.Venues[y].Location.Lon)
		})
	}
	areaPeople := cumulative(func(a area) float64 { return a.people })
	p.people = make([]person, cfg.People)
	p.weights = make([]float64, cfg.People)
	acc = 0
	for i := range p.people {
		pp := &p.people[i]
		pp.pseudonym = PseudonymOf(cfg.Seed, uint64(i))
		a := pick(rng, areaPeople)
		for len(p.byArea[a]) == 0 {
			a = (a + 1) % len(areas)
		}
		pp.area = int32(a)
		vs := p.byArea[a]
		pp.home = int32(rng.IntN(len(vs)))
		for j := range pp.regular {
			pp.regular[j] = p.near(rng, a, int(pp.home))
		}
		pp.routine = -1
		if rng.Float64() < 0.55 { // a weekday habit: lunch, a gym, an academy
			pp.routine = p.near(rng, a, int(pp.home))
			h := categoryHours[p.Venues[pp.routine].Category]
			pp.minute = int16(h.open + rng.IntN(max(1, h.close-h.open-60)))
		}
		// Activity: most people check in now and then, a few daily.
		acc += math.Exp(rng.NormFloat64() * 0.9)
		p.weights[i] = acc
	}
	return p, nil
}

// near picks a venue of area a near the position home (west to east).
func (p *Province) near(rng *rand.Rand, a, home int) int32 {
	vs := p.byArea[a]
	w := max(3, len(vs)/50)
	j := home + rng.IntN(2*w+1) - w
	return vs[min(max(j, 0), len(vs)-1)]
}

// SetProgress sets the progress callback of Load.
func (p *Province) SetProgress(fn func(Progress)) { p.cfg.Progress = fn }

// PseudonymOf is the pseudonym of resident i (tourists follow the
// residents: People + their arrival number).
func PseudonymOf(seed, i uint64) [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], i)
	h := sha256.Sum256(append([]byte("anshim-synth-person-v1"), b[:]...))
	return [16]byte(h[:16])
}

// Pseudonym returns resident i's pseudonym: PseudonymOf, or the identity
// vault's for a case that RegisterCases registered.
func (p *Province) Pseudonym(i int) [16]byte { return p.people[i].pseudonym }

// First returns the first day of check-ins.
func (p *Province) First() daykeys.Day { return p.cfg.First }

// BusinessNumber returns a valid business number (NNN-NN-NNNNN) for n, a
// different one for every n up to 999,999 (tax office 616, Jeju).
func BusinessNumber(n int) string {
	s := fmt.Sprintf("616%06d", n%1_000_000)
	weights := [9]int{1, 3, 7, 1, 3, 7, 1, 3, 5}
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	sum += int(s[8]-'0') * 5 / 10
	return fmt.Sprintf("%s-%s-%s%d", s[:3], s[3:5], s[5:], (10-sum%10)%10)
}

func cumulative(f func(area) float64) []float64 {
	var out []float64
	acc := 0.0
	for _, a := range areas {
		acc += f(a)
		out = append(out, acc)
	}
	return out
}

// pick returns an index of cum (cumulative weights) at random.
func pick(rng *rand.Rand, cum []float64) int {
	x := rng.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, x)
	return min(i, len(cum)-1)
}

// around returns a point within about r km of c, on the island: in
// Jeju's box and on South Korea's land (registry.KoreaLand).
func around(rng *rand.Rand, c registry.Location, r float64) registry.Location {
	for {
		d := r * math.Sqrt(rng.Float64())
		th := rng.Float64() * 2 * math.Pi
		l := registry.Location{
			Lat: c.Lat + d*math.Sin(th)/111.0,
			Lon: c.Lon + d*math.Cos(th)/(111.0*math.Cos(c.Lat*math.Pi/180)),
		}
		if registry.Jeju.Contains(l) && registry.KoreaLand.Contains(l) {
			return l
		}
	}
}

// Register stores the venues (approved) and enrolls one kiosk each, with
// conc stores at once. Venues already stored are skipped.
func (p *Province) Register(ctx context.Context, st store.Store, conc int) error {
	conc = max(conc, 1)
	errs := make(chan error, conc)
	next := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := range next {
				if err := p.register(ctx, st, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range p.Venues {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	for e := range errs {
		err = cmp.Or(err, e)
	}
	return err
}

func (p *Province) register(ctx context.Context, st store.Store, i int) error {
	v := p.Venues[i]
	if err := st.AddVenue(ctx, v.Venue); err != nil && !errors.Is(err, store.ErrExists) {
		return err
	}
	seed := sha256.Sum256(fmt.Appendf(nil, "anshim-synth-device-v1 %d %s", p.cfg.Seed, v.Device))
	kp, err := nkeys.FromRawSeed(nkeys.PrefixByteUser, seed[:])
	if err != nil {
		return err
	}
	nk, err := kp.PublicKey()
	if err != nil {
		return err
	}
	d := store.Device{ID: v.Device, Venue: v.ID, PublicKey: ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey),
		NKey: nk, Enrolled: v.Created}
	if err := st.AddDevice(ctx, d); err != nil && !errors.Is(err, store.ErrExists) {
		return err
	}
	return nil
}
