package tracegraph

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/trace"
)

// t0 is the start of the traces' windows.
var t0 = time.Date(2026, 12, 4, 0, 0, 0, 0, daykeys.KST)

// person is a contact of a hand-made result: exposed by via (a ref or
// trace.CaseRef) at venue, minutes after t0.
type person struct {
	ref, via, venue string
	minutes         int
	flagged         bool
}

// result builds a Result from people listed parents first: degrees and
// paths follow from via.
func result(people ...person) *trace.Result {
	res := &trace.Result{From: t0, To: t0.Add(72 * time.Hour), Until: t0.Add(96 * time.Hour), Degree: 4,
		Case: []trace.Stay{{Venue: "v-1", Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour)}}}
	byRef := map[string]trace.Contact{}
	for _, p := range people {
		at := t0.Add(time.Duration(p.minutes) * time.Minute)
		c := trace.Contact{Ref: p.ref, Venue: p.venue, Exposed: at, OverlapMinutes: 30, Via: p.via, Flagged: p.flagged,
			Stay: trace.Stay{Venue: p.venue, Start: at, End: at.Add(30 * time.Minute)}}
		if parent, ok := byRef[p.via]; ok {
			c.Path = append(slices.Clone(parent.Path), trace.Hop{Ref: p.ref, Venue: p.venue, Exposed: at})
		} else {
			c.Path = []trace.Hop{{Ref: trace.CaseRef, Exposed: t0}, {Ref: p.ref, Venue: p.venue, Exposed: at}}
		}
		c.Degree = len(c.Path) - 1
		byRef[p.ref] = c
		res.Contacts = append(res.Contacts, c)
	}
	return res
}

// synth builds a trace of n contacts over 40 venues: a tenth of degree 1
// at the case's four venues, each further degree exposed by the one
// before in groups at other venues, a fifth of the rest at each degree
// but the last, which holds the rest.
func synth(n int, degree int, seed uint64) *trace.Result {
	rng := rand.New(rand.NewPCG(seed, 7))
	type gen struct {
		parent, degree int
		venue          string
		at             time.Time
		flagged        bool
	}
	var ps []gen
	venue := func(k int) string { return fmt.Sprintf("v-%02d", k) }
	d1 := max(n/10, 1)
	for range d1 {
		ps = append(ps, gen{parent: -1, degree: 1, venue: venue(rng.IntN(4)), at: t0.Add(time.Duration(rng.IntN(48*60)) * time.Minute)})
	}
	// Degree k ≥ 2: each parent exposes a group at one of its venues.
	for k := 2; k <= degree && len(ps) < n; k++ {
		var parents []int
		for i, p := range ps {
			if p.degree == k-1 {
				parents = append(parents, i)
			}
		}
		want := n - len(ps)
		if k < degree {
			want /= 5 // the outer rings hold the most
		}
		for added := 0; added < want; {
			p := parents[rng.IntN(len(parents))]
			v := venue(4 + rng.IntN(36))
			at := ps[p].at.Add(time.Duration(60+rng.IntN(36*60)) * time.Minute)
			size := min(1+rng.IntN(8), want-added)
			for range size {
				ps = append(ps, gen{parent: p, degree: k, venue: v, at: at.Add(time.Duration(rng.IntN(40)) * time.Minute), flagged: rng.IntN(40) == 0})
			}
			added += size
		}
	}
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(ps[a].at.Compare(ps[b].at), cmp.Compare(ps[a].degree, ps[b].degree))
	})
	refs := make([]string, len(ps))
	for i, o := range order {
		refs[o] = fmt.Sprintf("C%d", i+1)
	}
	var pathOf func(i int) []trace.Hop
	pathOf = func(i int) []trace.Hop {
		h := trace.Hop{Ref: refs[i], Venue: ps[i].venue, Exposed: ps[i].at}
		if ps[i].parent < 0 {
			return []trace.Hop{{Ref: trace.CaseRef, Exposed: t0}, h}
		}
		return append(pathOf(ps[i].parent), h)
	}
	res := &trace.Result{From: t0, To: t0.Add(72 * time.Hour), Until: t0.Add(120 * time.Hour), Degree: degree}
	for v := range 4 {
		at := t0.Add(time.Duration(v*11) * time.Hour)
		res.Case = append(res.Case, trace.Stay{Venue: venue(v), Start: at, End: at.Add(time.Hour)})
	}
	for _, o := range order {
		p := ps[o]
		via := trace.CaseRef
		if p.parent >= 0 {
			via = refs[p.parent]
		}
		res.Contacts = append(res.Contacts, trace.Contact{Ref: refs[o], Degree: p.degree, Venue: p.venue, Exposed: p.at,
			OverlapMinutes: 20 + rng.IntN(90), Via: via, Path: pathOf(o), Flagged: p.flagged,
			Stay: trace.Stay{Venue: p.venue, Start: p.at, End: p.at.Add(time.Hour)}})
	}
	return res
}

// names are venue names for synth's venues.
var names = []string{
	"Cafe Halla", "Dongmun Market", "Jeju City Hall", "Hallim Church",
	"Tapdong PC Room", "Sea Breeze Sauna", "Nohyeong Gym", "Olle Noodle House",
	"Ildo Karaoke", "Jungang Bookshop", "Samdo Pharmacy", "Yeon-dong Pub",
	"Airport Bus Lounge", "Hamdeok Beach Bar", "Aewol Bakery", "Seogwipo Library",
	"Halla Arboretum Cafe", "Gujwa Fish Market", "Sinjeju Cinema", "Ora Golf Club",
	"Moseulpo Hostel", "Udo Ferry Terminal", "Jocheon Dance Studio", "Ara Campus Diner",
	"Yongdam Seafood", "Ido Hair Salon", "Hwabuk Church", "Dodu Bike Rental",
	"Geonip Laundry", "Samyang Swimming Pool", "Oedo Billiards", "Hwasun Kimbap",
	"Daejeong Clinic", "Pyoseon Guesthouse", "Namwon Tangerine Farm Shop", "Haengwon Wind Cafe",
	"Seongsan Fitness", "Gimnyeong Dive Shop", "Bukchon Seafood", "Sagye Brewery",
}

// venueName names synth's venues, the rest unknown.
func venueName(id string) string {
	var k int
	if _, err := fmt.Sscanf(id, "v-%d", &k); err == nil && k < len(names) {
		return names[k]
	}
	return ""
}

// render renders res or fails the test.
func render(t testing.TB, res *trace.Result, opts *Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, res, opts); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return b.Bytes()
}

// element is an element of a parsed SVG.
type element struct {
	name  string
	attrs map[string]string
	text  string // its own character data
	title string // the text of its <title> child
}

// parse reads every token of an SVG, failing the test when it is not
// well-formed XML, and returns its elements in order.
func parse(t testing.TB, svg []byte) []*element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	var out, stack []*element
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			top := stack[len(stack)-1]
			top.text += string(tok)
			if top.name == "title" && len(stack) > 1 {
				stack[len(stack)-2].title += string(tok)
			}
		}
	}
	return out
}

// withClass returns the elements whose class holds every word of class.
func withClass(es []*element, class string) []*element {
	var out []*element
	for _, e := range es {
		have := strings.Fields(e.attrs["class"])
		ok := true
		for _, w := range strings.Fields(class) {
			ok = ok && slices.Contains(have, w)
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}
