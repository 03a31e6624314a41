package synth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/checkin"
)

// Case is a resident to try a trace with: registered in the identity
// vault under a synthetic phone number by RegisterCases, with Entries
// check-ins at Venues venues in the trace window of Onset (onset − 2 days
// to now).
type Case struct {
	Resident int
	Name     string
	Phone    string // 010-NNNN-NNNN
	Onset    daykeys.Day
	Entries  int
	Venues   int
	PersonID string // set by RegisterCases
}

// Registrar registers people in the identity vault: *vault.Vault.
type Registrar interface {
	Register(ctx context.Context, name, phone string) (vault.Person, error)
	Lookup(ctx context.Context, phone string) (vault.Person, error)
}

// caseDays is how many days before today a case's onset is: symptoms
// since yesterday, reported today.
const caseDays = 1

// PickCases returns up to n residents with the most check-ins in the
// trace window of an onset yesterday (today when Days is 1): at least 3
// entries at 2 venues or more, and first those with at most 3 a day, most
// entries first. Call it before Load; the scans it generates are kept for
// Load.
func (p *Province) PickCases(n int) []Case {
	today := daykeys.DayOf(p.cfg.Now())
	last := min(today, p.cfg.First+daykeys.Day(p.cfg.Days)-1)
	onset := max(last-caseDays, p.cfg.First)
	type tally struct {
		entries int
		venues  map[int32]bool
	}
	counts := map[uint32]*tally{}
	if p.cache == nil {
		p.cache = map[int][]event{}
	}
	for d := max(onset-2, p.cfg.First); d <= last; d++ {
		di := int(d - p.cfg.First)
		evs := p.dayEvents(di)
		p.cache[di] = evs
		for _, e := range evs {
			if e.kind != checkin.Entry || int(e.who) >= len(p.people) { // entries of residents
				continue
			}
			c := counts[e.who]
			if c == nil {
				c = &tally{venues: map[int32]bool{}}
				counts[e.who] = c
			}
			c.entries++
			c.venues[e.venue] = true
		}
	}
	var cases []Case
	for who, c := range counts {
		if c.entries >= 3 && len(c.venues) >= 2 {
			cases = append(cases, Case{Resident: int(who), Onset: onset, Entries: c.entries, Venues: len(c.venues)})
		}
	}
	// Plausible cases first: at most 3 entries a day of the window (a
	// small province's few residents each scan dozens of times a day);
	// then the most entries at the most venues.
	plausible := 3 * int(last-max(onset-2, p.cfg.First)+1)
	rank := func(c Case) int {
		if c.Entries <= plausible {
			return 0
		}
		return 1
	}
	slices.SortFunc(cases, func(a, b Case) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(b.Entries, a.Entries),
			cmp.Compare(b.Venues, a.Venues), cmp.Compare(a.Resident, b.Resident))
	})
	cases = cases[:min(n, len(cases))]
	for i := range cases {
		cases[i].Name = fmt.Sprintf("Synthetic resident %d", cases[i].Resident)
		cases[i].Phone = phoneOf(p.cfg.Seed, cases[i].Resident)
	}
	return cases
}

// phoneOf is resident i's synthetic mobile number, 010-NNNN-NNNN with a
// middle part from 2000 (none starts with 0).
func phoneOf(seed uint64, i int) string {
	h := mix(seed<<20 ^ uint64(i) ^ 0x9e3779b97f4a7c15)
	return fmt.Sprintf("010-%04d-%04d", 2000+h%8000, h/8000%10000)
}

// RegisterCases registers the cases in the identity vault (a phone
// number registered already, by an earlier run, is looked up) and makes
// their check-ins carry the vault's pseudonyms, so that a trace by phone
// number finds them. Call it before Load.
func (p *Province) RegisterCases(ctx context.Context, v Registrar, cases []Case) error {
	for i := range cases {
		c := &cases[i]
		per, err := v.Register(ctx, c.Name, c.Phone)
		if errors.Is(err, store.ErrExists) {
			per, err = v.Lookup(ctx, c.Phone)
		}
		if err != nil {
			return fmt.Errorf("synth: register case %s: %w", c.Phone, err)
		}
		c.PersonID = per.ID
		p.people[c.Resident].pseudonym = per.Pseudonym
	}
	return nil
}
