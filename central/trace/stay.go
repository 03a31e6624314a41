package trace

import (
	"slices"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// The bounds of a stay (docs/design.md).
const (
	MinStay = registry.MinStay * time.Minute
	MaxStay = registry.MaxStay * time.Minute
)

// Stay is a person's stay at a venue.
type Stay struct {
	Venue string    `json:"venue"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Exit is true when the person scanned out, false when End is the
	// entry plus the venue's default stay.
	Exit bool `json:"exit"`
	// Flags are the flags of its entry and exit check-ins, ORed; Flagged
	// says whether they mark it for the investigator (store.Flagged).
	Flags   uint32 `json:"flags,omitempty"`
	Flagged bool   `json:"flagged,omitempty"`

	device string // the entry check-in
	seq    uint64
}

// bound clamps a stay's length to MinStay .. MaxStay.
func bound(d time.Duration) time.Duration { return min(max(d, MinStay), MaxStay) }

// ExitHorizon is how long after an entry an exit scan may come and still
// end its stay: an exit as late as the next day ends it (a bathhouse's
// night, a PC room's), one a day or more later is another visit's whose
// entry was not scanned. The stay is then bounded to MaxStay.
const ExitHorizon = 24 * time.Hour

// stays pairs one person's check-ins into stays, in entry order. rs may
// hold several days and venues, in any order; defaultStay gives a venue's
// default stay. An entry's stay ends at the person's next check-in at its
// venue when that is an exit less than ExitHorizon later, on whatever KST
// day; otherwise it lasts the default stay.
func stays(rs []store.CheckIn, defaultStay func(venue string) time.Duration) []Stay {
	if !slices.IsSortedFunc(rs, compareCheckIns) {
		rs = sortedCopy(rs)
	}
	var out []Stay
	for i, r := range rs {
		if r.Kind != checkin.Entry {
			continue
		}
		s := Stay{Venue: r.Venue, Start: r.Time, Flags: r.Flags, device: r.Device, seq: r.Seq}
		end := r.Time.Add(defaultStay(r.Venue))
		for _, n := range rs[i+1:] {
			if n.Time.Sub(r.Time) >= ExitHorizon {
				break
			}
			if n.Venue != r.Venue {
				continue
			}
			if n.Kind == checkin.Exit {
				end, s.Exit = n.Time, true
				s.Flags |= n.Flags
			}
			break
		}
		s.End = s.Start.Add(bound(end.Sub(s.Start)))
		s.Flagged = store.Flagged(s.Flags)
		out = append(out, s)
	}
	return out
}

// sortedCopy returns rs sorted by (Time, Device, Seq).
func sortedCopy(rs []store.CheckIn) []store.CheckIn {
	out := append([]store.CheckIn(nil), rs...)
	sortCheckIns(out)
	return out
}
