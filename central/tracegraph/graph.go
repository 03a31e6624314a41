package tracegraph

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/trace"
)

// DefaultThreshold is the number of contacts above which a graph is
// collapsed.
const DefaultThreshold = 300

// ErrNoResult is the error of Render given no result.
var ErrNoResult = errors.New("tracegraph: no trace result")

// Options configure Render. A nil *Options means the defaults.
type Options struct {
	// VenueName returns a venue's name for its id, or "" when unknown
	// (then the id is shown). Nil shows ids.
	VenueName func(id string) string
	// Threshold is the number of contacts above which the graph is
	// collapsed (default DefaultThreshold).
	Threshold int
	// Lang is the language of the legend and descriptions: "ko" or "en"
	// (default).
	Lang string
	// IDPrefix prefixes the ids of the SVG's <title> and <desc>, for pages
	// with more than one graph (default "tracegraph").
	IDPrefix string
}

// Layout constants, in SVG user units (pixels at 1:1).
const (
	minSpacing = 11.0  // least arc between neighbours on a ring
	minGap     = 100.0 // least distance between rings
	groupMin   = 3     // children of one parent at one venue drawn through a hub
	fontSize   = 11.0
	maxName    = 22 // runes of a venue name in a visible label
)

type kind int

const (
	kindCase kind = iota
	kindContact
	kindGroup // a parent's children at one venue
	kindVenue // collapsed contacts at one venue
)

// node is a drawn node.
type node struct {
	id      string // "case", a contact's ref, "g:<parent>:<venue>", "v:<venue>"
	kind    kind
	degree  int // contacts; the least degree of a collapsed hub
	angle   float64
	radius  float64
	x, y, r float64
	count   int    // hubs: the contacts
	text    string // inside the node (hubs: the count)
	label   string // a visible label, if there is room
	title   string
	flagged bool
}

// edge is a drawn edge, from the node nearer the case to the other.
type edge struct {
	from, to int
	title    string
	label    string // a visible label at its middle, if there is room
	count    int    // contacts it stands for
}

// graph is a laid-out graph, centred on (0, 0).
type graph struct {
	nodes    []node
	edges    []edge
	rings    []float64 // ring k's radius is rings[k-1]
	cut      int       // contacts of degree ≥ cut are collapsed (0: none)
	degrees  []int     // contacts per degree (index 0 unused)
	venues   int       // venues of exposure
	contacts int
	flagged  int
	from, to time.Time
	words    words
}

// venueNamer returns names for venue ids, the id when unknown.
func venueNamer(f func(string) string) func(string) string {
	return func(id string) string {
		if f != nil {
			if n := strings.TrimSpace(f(id)); n != "" {
				return n
			}
		}
		return id
	}
}

// short cuts a name to maxName runes.
func short(s string) string {
	r := []rune(s)
	if len(r) <= maxName {
		return s
	}
	return string(r[:maxName-1]) + "…"
}

// clock formats an instant for a label, in KST.
func clock(t time.Time) string { return t.In(daykeys.KST).Format("01-02 15:04") }

// chooseCut returns the least-collapsing cut that keeps the drawn contacts
// within threshold: 0 (none), 3, 2 or 1.
func chooseCut(cs []trace.Contact, threshold int) int {
	if len(cs) <= threshold {
		return 0
	}
	below := func(d int) int {
		n := 0
		for _, c := range cs {
			if c.Degree < d {
				n++
			}
		}
		return n
	}
	for _, cut := range []int{3, 2} {
		if below(cut) <= threshold {
			return cut
		}
	}
	return 1
}

// build lays a result out.
func build(res *trace.Result, opts *Options) *graph {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Threshold <= 0 {
		o.Threshold = DefaultThreshold
	}
	name := venueNamer(o.VenueName)
	cs := res.Contacts
	g := &graph{contacts: len(cs), from: res.From, to: res.To, words: lang(o.Lang)}
	g.cut = chooseCut(cs, o.Threshold)
	maxDeg := 0
	venueSet := map[string]bool{}
	for _, c := range cs {
		maxDeg = max(maxDeg, c.Degree)
		venueSet[c.Venue] = true
		if c.Flagged {
			g.flagged++
		}
	}
	g.venues = len(venueSet)
	g.degrees = make([]int, maxDeg+1)
	for _, c := range cs {
		if c.Degree > 0 {
			g.degrees[c.Degree]++
		}
	}
	drawn := func(i int) bool { return g.cut == 0 || cs[i].Degree < g.cut }

	// The parent of each contact: the one before it on its path, when
	// that is the case or a contact of a lesser degree (anything else is
	// malformed and hangs off the case).
	byRef := make(map[string]int, len(cs))
	for i, c := range cs {
		byRef[c.Ref] = i
	}
	parent := make([]int, len(cs)) // -1: the case
	for i, c := range cs {
		ref := c.Via
		if len(c.Path) >= 2 {
			ref = c.Path[len(c.Path)-2].Ref
		}
		parent[i] = -1
		if j, ok := byRef[ref]; ok && ref != trace.CaseRef && cs[j].Degree < c.Degree {
			parent[i] = j
		}
	}

	// The tree of drawn contacts, children by venue (name, id), exposure,
	// order.
	children := map[int][]int{}
	for i := range cs {
		if drawn(i) {
			children[parent[i]] = append(children[parent[i]], i)
		}
	}
	for _, kids := range children {
		slices.SortFunc(kids, func(a, b int) int {
			return cmp.Or(cmp.Compare(name(cs[a].Venue), name(cs[b].Venue)), cmp.Compare(cs[a].Venue, cs[b].Venue),
				cs[a].Exposed.Compare(cs[b].Exposed), cmp.Compare(a, b))
		})
	}
	ring := func(i int) float64 { return float64(max(cs[i].Degree, 1)) }

	// need is the angle a subtree needs at a ring gap of 1: its root's
	// own room on its ring, or its children's, whichever is more.
	need := make([]float64, len(cs))
	var needOf func(i int) float64
	needOf = func(i int) float64 {
		sum := 0.0
		for _, k := range children[i] {
			sum += needOf(k)
		}
		if i < 0 {
			return sum
		}
		need[i] = max(minSpacing/ring(i), sum)
		return need[i]
	}
	total := needOf(-1)
	gap := max(minGap, total/(2*math.Pi))
	rings := maxDeg
	if g.cut > 0 {
		rings = min(maxDeg, g.cut)
	}
	for k := 1; k <= rings; k++ {
		g.rings = append(g.rings, float64(k)*gap)
	}

	// Nodes: the case, then the drawn contacts by angle.
	g.nodes = append(g.nodes, node{id: trace.CaseRef, kind: kindCase, r: 14, label: g.words.caseName,
		title: g.words.caseTitle(len(res.Case), res.From, res.To)})
	at := map[int]int{-1: 0} // contact → node
	scale := 1.0
	if total > 0 {
		scale = 2 * math.Pi / total
	}
	var place func(i int, start float64)
	place = func(i int, start float64) {
		a := start
		for _, k := range children[i] {
			span := need[k] * scale
			c := cs[k]
			n := node{id: c.Ref, kind: kindContact, degree: c.Degree, angle: a + span/2, radius: ring(k) * gap,
				flagged: c.Flagged, label: c.Ref, title: g.words.contactTitle(c, name(c.Venue))}
			at[k] = len(g.nodes)
			g.nodes = append(g.nodes, n)
			place(k, a)
			a += span
		}
	}
	place(-1, -math.Pi/2)
	nodeRadii(g)

	// Edges, through a hub where a parent exposed several at one venue.
	parents := slices.Sorted(maps.Keys(children))
	for _, p := range parents {
		kids := children[p]
		for s := 0; s < len(kids); {
			e := s + 1
			for e < len(kids) && cs[kids[e]].Venue == cs[kids[s]].Venue {
				e++
			}
			g.link(cs, kids[s:e], at[p], at, name)
			s = e
		}
	}
	if g.cut > 0 {
		g.collapse(cs, parent, at, gap, name)
	}
	for i := range g.nodes {
		n := &g.nodes[i]
		n.x, n.y = n.radius*math.Cos(n.angle), n.radius*math.Sin(n.angle)
	}
	return g
}

// nodeRadii sizes the contacts of each ring by their closest neighbours.
func nodeRadii(g *graph) {
	byRing := map[float64][]float64{}
	for _, n := range g.nodes {
		if n.kind == kindContact {
			byRing[n.radius] = append(byRing[n.radius], n.angle)
		}
	}
	size := map[float64]float64{}
	for r, as := range byRing {
		slices.Sort(as)
		least := 2 * math.Pi
		for i := 1; i < len(as); i++ {
			least = min(least, as[i]-as[i-1])
		}
		if len(as) > 1 {
			least = min(least, as[0]+2*math.Pi-as[len(as)-1])
		}
		size[r] = min(max(0.42*least*r, 3.5), 8)
	}
	for i := range g.nodes {
		if n := &g.nodes[i]; n.kind == kindContact {
			n.r = size[n.radius]
		}
	}
}

// link draws the edges from a parent node to its children kids (one
// venue's), through a hub if there are groupMin or more.
func (g *graph) link(cs []trace.Contact, kids []int, p int, at map[int]int, name func(string) string) {
	first := cs[kids[0]]
	venue := name(first.Venue)
	if len(kids) < groupMin {
		for _, k := range kids {
			c := cs[k]
			g.edges = append(g.edges, edge{from: p, to: at[k], count: 1,
				title: g.words.edgeTitle(c, g.nodes[p].id, venue),
				label: short(venue) + " " + clock(c.Exposed)})
		}
		return
	}
	lo, hi := g.nodes[at[kids[0]]], g.nodes[at[kids[len(kids)-1]]]
	rmin := lo.radius
	earliest := first.Exposed
	for _, k := range kids {
		rmin = min(rmin, g.nodes[at[k]].radius)
		if cs[k].Exposed.Before(earliest) {
			earliest = cs[k].Exposed
		}
	}
	h := node{id: "g:" + g.nodes[p].id + ":" + first.Venue, kind: kindGroup, count: len(kids),
		angle: (lo.angle + hi.angle) / 2, radius: (g.nodes[p].radius + rmin) / 2, r: 5,
		label: short(venue) + " " + clock(earliest),
		title: g.words.groupTitle(len(kids), g.nodes[p].id, venue, earliest)}
	hub := len(g.nodes)
	g.nodes = append(g.nodes, h)
	g.edges = append(g.edges, edge{from: p, to: hub, count: len(kids), title: h.title})
	for _, k := range kids {
		g.edges = append(g.edges, edge{from: hub, to: at[k], count: 1, title: g.words.edgeTitle(cs[k], g.nodes[p].id, venue)})
	}
}

// collapse draws the contacts of degree ≥ g.cut as one hub per venue on
// the outer ring, with edges from their drawn parents; the venues of
// collapsed parents are in the hub's tooltip.
func (g *graph) collapse(cs []trace.Contact, parent []int, at map[int]int, gap float64, name func(string) string) {
	type hub struct {
		venue    string
		count    int
		degrees  map[int]int
		parents  map[int]int    // drawn parent node → contacts
		sources  map[string]int // venue of a collapsed parent → contacts
		x, y     float64        // sum of the parents' unit vectors
		minDeg   int
		r, angle float64
	}
	hubs := map[string]*hub{}
	for i, c := range cs {
		if c.Degree < g.cut {
			continue
		}
		h := hubs[c.Venue]
		if h == nil {
			h = &hub{venue: c.Venue, degrees: map[int]int{}, parents: map[int]int{}, sources: map[string]int{}, minDeg: c.Degree}
			hubs[c.Venue] = h
		}
		h.count++
		h.degrees[c.Degree]++
		h.minDeg = min(h.minDeg, c.Degree)
		p := parent[i]
		if p >= 0 && cs[p].Degree >= g.cut {
			h.sources[cs[p].Venue]++
			continue
		}
		n := at[p]
		h.parents[n]++
		if n != 0 {
			h.x += math.Cos(g.nodes[n].angle)
			h.y += math.Sin(g.nodes[n].angle)
		}
	}
	list := make([]*hub, 0, len(hubs))
	for _, h := range hubs {
		h.r = min(max(7+2.2*math.Sqrt(float64(h.count)), 10), 30)
		h.angle = math.Atan2(h.y, h.x)
		if h.x == 0 && h.y == 0 {
			h.angle = math.Inf(1) // after the others
		}
		list = append(list, h)
	}
	slices.SortFunc(list, func(a, b *hub) int {
		return cmp.Or(cmp.Compare(a.angle, b.angle), cmp.Compare(name(a.venue), name(b.venue)), cmp.Compare(a.venue, b.venue))
	})
	// The outer ring, wide enough for the hubs side by side.
	room := 0.0
	for _, h := range list {
		room += 2*h.r + 8
	}
	radius := max(float64(g.cut)*gap, room/(2*math.Pi))
	g.rings[len(g.rings)-1] = radius
	// Each at its parents' mean angle, pushed along to keep clear of the
	// one before; evenly spread if they do not fit.
	angles := make([]float64, len(list))
	for i, h := range list {
		a := h.angle
		if math.IsInf(a, 1) {
			a = -math.Pi / 2
			if i > 0 {
				a = angles[i-1]
			}
		}
		if i > 0 {
			a = max(a, angles[i-1]+(list[i-1].r+h.r+8)/radius)
		}
		angles[i] = a
	}
	if n := len(list); n > 1 && angles[n-1]-angles[0] > 2*math.Pi-(list[0].r+list[n-1].r+8)/radius {
		a := angles[0]
		for i, h := range list {
			angles[i] = a
			a += (2*h.r + 8) / radius * (2 * math.Pi * radius / room)
		}
	}
	index := map[string]int{}
	for i, h := range list {
		index[h.venue] = len(g.nodes)
		venue := name(h.venue)
		sources := slices.SortedFunc(maps.Keys(h.sources), func(a, b string) int {
			return cmp.Or(cmp.Compare(h.sources[b], h.sources[a]), cmp.Compare(name(a), name(b)), cmp.Compare(a, b))
		})
		var from []string
		for _, v := range sources {
			from = append(from, fmt.Sprintf("%s (%d)", name(v), h.sources[v]))
		}
		g.nodes = append(g.nodes, node{id: "v:" + h.venue, kind: kindVenue, degree: h.minDeg, count: h.count,
			angle: angles[i], radius: radius, r: h.r, text: fmt.Sprint(h.count), label: short(venue),
			title: g.words.venueTitle(venue, h.degrees, from)})
	}
	for _, h := range list {
		to := index[h.venue]
		for _, p := range slices.Sorted(maps.Keys(h.parents)) {
			g.edges = append(g.edges, edge{from: p, to: to, count: h.parents[p],
				title: g.words.hubEdgeTitle(h.parents[p], g.nodes[p].id, name(h.venue))})
		}
	}
}
