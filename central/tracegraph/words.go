package tracegraph

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/anshim/anshim/central/trace"
)

// words are the texts of a graph in one language.
type words struct {
	caseName   string
	title      string
	degree     string // "Degree %d"
	group      string // the legend's venue hub
	collapsed  string // "Degree ≥ %d: one node per venue, with a count"
	caseStays  string // "Case: %d stays from %s to %s"
	contact    string // "%s: degree %d, exposed at %s on %s for %d min, by %s; path %s"
	flagged    string
	flagName   string
	edge       string // "%s exposed by %s at %s, %s (%d min)"
	groupT     string // "%d exposed by %s at %s from %s"
	venueT     string // "%s: %d contacts collapsed (%s)"
	degreeN    string // "degree %d: %d"
	hubEdge    string // "%d exposed by %s at %s"
	hubFrom    string // "; exposed by contacts of %s"
	desc       string // "The case and %d contacts (%s) at %d venues."
	descFlag   string // " %d flagged."
	descCut    string // " Contacts of degree %d and more are drawn as one node per venue with a count."
	descNone   string
	degreeList string // "%d of degree %d"
}

var english = words{
	caseName:   "Case",
	title:      "Contact graph of the trace",
	degree:     "Degree %d",
	group:      "Venue: 3 or more exposed by one person",
	collapsed:  "Degree ≥ %d: one node per venue, with a count (colour: least degree)",
	caseStays:  "Case: %d stays from %s to %s (KST)",
	contact:    "%s: degree %d, exposed at %s on %s KST for %d min, by %s; path %s",
	flagged:    " (flagged)",
	flagName:   "Flagged",
	edge:       "%s exposed by %s at %s, %s KST (%d min)",
	groupT:     "%d exposed by %s at %s from %s KST",
	venueT:     "%s: %d contacts collapsed (%s)",
	degreeN:    "degree %d: %d",
	hubEdge:    "%d exposed by %s at %s",
	hubFrom:    "; exposed by contacts of %s",
	desc:       "The case at the centre and %d contacts on rings by degree (%s), exposed at %d venues.",
	descFlag:   " %d flagged.",
	descCut:    " Contacts of degree %d and more are drawn as one node per venue with a count.",
	descNone:   "The case at the centre and no contacts.",
	degreeList: "%d of degree %d",
}

var korean = words{
	caseName:   "확진자",
	title:      "역학조사 접촉 그래프",
	degree:     "%d차 접촉",
	group:      "시설: 한 사람이 3명 이상 노출",
	collapsed:  "%d차 이상: 시설별 1개 노드와 인원수 (색: 최소 차수)",
	caseStays:  "확진자: 방문 %d건, %s ~ %s (KST)",
	contact:    "%s: %d차, %s에서 %s KST에 %d분 노출, 노출원 %s, 경로 %s",
	flagged:    " (표시됨)",
	flagName:   "표시됨",
	edge:       "%s: %s에게 %s에서 %s KST에 노출 (%d분)",
	groupT:     "%d명: %s에게 %s에서 %s KST부터 노출",
	venueT:     "%s: 접촉자 %d명 묶음 (%s)",
	degreeN:    "%d차 %d명",
	hubEdge:    "%d명: %s에게 %s에서 노출",
	hubFrom:    "; 노출원: %s 접촉자",
	desc:       "가운데 확진자, 차수별 고리에 접촉자 %d명 (%s), 시설 %d곳.",
	descFlag:   " 표시된 접촉 %d건.",
	descCut:    " %d차 이상 접촉자는 시설별 1개 노드와 인원수로 표시.",
	descNone:   "가운데 확진자, 접촉자 없음.",
	degreeList: "%[2]d차 %[1]d명",
}

// lang returns the words of a language ("ko", or English).
func lang(l string) words {
	if strings.HasPrefix(strings.ToLower(l), "ko") {
		return korean
	}
	return english
}

func (w words) caseTitle(stays int, from, to time.Time) string {
	return fmt.Sprintf(w.caseStays, stays, clock(from), clock(to))
}

func (w words) contactTitle(c trace.Contact, venue string) string {
	refs := make([]string, len(c.Path))
	for i, h := range c.Path {
		refs[i] = h.Ref
	}
	s := fmt.Sprintf(w.contact, c.Ref, c.Degree, venue, clock(c.Exposed), c.OverlapMinutes, c.Via, strings.Join(refs, " › "))
	if c.Flagged {
		s += w.flagged
	}
	return s
}

func (w words) edgeTitle(c trace.Contact, by, venue string) string {
	s := fmt.Sprintf(w.edge, c.Ref, by, venue, clock(c.Exposed), c.OverlapMinutes)
	if c.Flagged {
		s += w.flagged
	}
	return s
}

func (w words) groupTitle(n int, by, venue string, at time.Time) string {
	return fmt.Sprintf(w.groupT, n, by, venue, clock(at))
}

func (w words) venueTitle(venue string, degrees map[int]int, from []string) string {
	var parts []string
	total := 0
	for _, d := range slices.Sorted(maps.Keys(degrees)) {
		parts = append(parts, fmt.Sprintf(w.degreeN, d, degrees[d]))
		total += degrees[d]
	}
	s := fmt.Sprintf(w.venueT, venue, total, strings.Join(parts, ", "))
	if len(from) > 0 {
		s += fmt.Sprintf(w.hubFrom, strings.Join(from, ", "))
	}
	return s
}

func (w words) hubEdgeTitle(n int, by, venue string) string {
	return fmt.Sprintf(w.hubEdge, n, by, venue)
}

// description is the graph's <desc>: what it shows, with counts.
func (g *graph) description() string {
	w := g.words
	if g.contacts == 0 {
		return w.descNone
	}
	var parts []string
	for d := 1; d < len(g.degrees); d++ {
		if g.degrees[d] > 0 {
			parts = append(parts, fmt.Sprintf(w.degreeList, g.degrees[d], d))
		}
	}
	s := fmt.Sprintf(w.desc, g.contacts, strings.Join(parts, ", "), g.venues)
	if g.flagged > 0 {
		s += fmt.Sprintf(w.descFlag, g.flagged)
	}
	if g.cut > 0 {
		s += fmt.Sprintf(w.descCut, g.cut)
	}
	return s
}
