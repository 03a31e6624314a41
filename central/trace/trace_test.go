package trace

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// scenario is the known-answer world of the tests (November 2026, KST).
// The case's onset is the 12th: its window is the 10th 00:00 to isolation
// on the 13th 00:00.
//
//	10th 20:00–21:00 bar (exit)     M 20:30 (90 min default)      → M, 1st exposure
//	11th 10:00–11:00 cafe (exit)    A 10:00–10:40 (exit)          → A at 10:00
//	                                H 09:30, no exit, FlagSuspect  → 09:30–10:15: H, flagged
//	                                F 09:30–09:55 (exit)           → none: the exit ends the stay
//	                                I 09:50–09:51, FlagAfterBreak  → 15 min, 09:50–10:05: I, 5 min, not flagged
//	                                M 10:45, no exit               → later than M's 1st exposure
//	     A earlier: bar 08:30–09:30 (exit) with B 09:00–10:30 → B none: A's stay ended before A's exposure
//	     A later: gym 12:00 (60 min) with D 12:30–14:00 → D degree 2; P 12:45–13:30 → P over 2 hops
//	     D later: rest2 15:00 (60 min) with E 15:10 → E degree 3
//	11th 23:46–23:47 big (exit)     L 00:00, no exit, default 2000 min → bounded to 23:45: none
//	11th 23:52–23:58 hall (exit)    → 15 min, to 00:07; K 23:40 (church, 90 min): K, 15 min overlap
//	                                J 00:05–23:59 (exit) → bounded to 00:05–23:50: none
//	12th 09:00 restaurant (60 min)  P 09:10 → P degree 1 (one hop), though 2 hops reach P earlier
//	 9th 12:00 cafe                 Q 12:00 → outside the window: none
//	13th 10:00 cafe                 R 10:00 → after isolation: none
func scenario(tb testing.TB, st store.Store) *world {
	w := newWorld(tb, st)
	w.venue("bar", registry.Bar, 0)
	w.venue("cafe", registry.Cafe, 0)
	w.venue("gym", registry.Gym, 0)
	w.venue("rest2", registry.Restaurant, 0)
	w.venue("restaurant", registry.Restaurant, 0)
	w.venue("hall", registry.Church, 0)
	w.venue("big", registry.Other, 2000)

	w.in("case", "bar", at(10, 20, 0))
	w.in("M", "bar", at(10, 20, 30))
	w.out("case", "bar", at(10, 21, 0))

	w.in("A", "bar", at(11, 8, 30))
	w.in("B", "bar", at(11, 9, 0))
	w.out("A", "bar", at(11, 9, 30))
	w.out("B", "bar", at(11, 10, 30))

	w.scan("H", "cafe", checkin.Entry, at(11, 9, 30), store.FlagSuspect)
	w.in("F", "cafe", at(11, 9, 30))
	w.scan("I", "cafe", checkin.Entry, at(11, 9, 50), store.FlagAfterBreak)
	w.out("I", "cafe", at(11, 9, 51))
	w.out("F", "cafe", at(11, 9, 55))
	w.in("case", "cafe", at(11, 10, 0))
	w.in("A", "cafe", at(11, 10, 0))
	w.out("A", "cafe", at(11, 10, 40))
	w.in("M", "cafe", at(11, 10, 45))
	w.out("case", "cafe", at(11, 11, 0))

	w.in("A", "gym", at(11, 12, 0))
	w.in("D", "gym", at(11, 12, 30))
	w.in("P", "gym", at(11, 12, 45))
	w.out("P", "gym", at(11, 13, 30))
	w.out("D", "gym", at(11, 14, 0))
	w.in("D", "rest2", at(11, 15, 0))
	w.in("E", "rest2", at(11, 15, 10))

	w.in("L", "big", at(11, 0, 0))
	w.in("case", "big", at(11, 23, 46))
	w.out("case", "big", at(11, 23, 47))

	w.in("J", "hall", at(11, 0, 5))
	w.in("K", "hall", at(11, 23, 40))
	w.in("case", "hall", at(11, 23, 52))
	w.out("case", "hall", at(11, 23, 58))
	w.out("J", "hall", at(11, 23, 59))

	w.in("case", "restaurant", at(12, 9, 0))
	w.in("P", "restaurant", at(12, 9, 10))

	w.in("case", "cafe", at(9, 12, 0))
	w.in("Q", "cafe", at(9, 12, 0))
	w.in("case", "cafe", at(13, 10, 0))
	w.in("R", "cafe", at(13, 10, 0))
	return w
}

// want is the expected record of a contact, by name.
type want struct {
	degree  int
	venue   string
	exposed time.Time
	overlap int
	exit    bool // the contact's stay ended by an exit scan
	flagged bool
	path    string // names from the case
}

// names maps pseudonyms back to the scenario's names.
var names = func() map[[16]byte]string {
	m := map[[16]byte]string{}
	for _, n := range strings.Fields("case A B D E F H I J K L M P Q R S T0 T1 T2 V W X Y Z Z2") {
		m[pseudonymOf(n)] = n
	}
	return m
}()

func checkResult(t *testing.T, res *Result, wants map[string]want) {
	t.Helper()
	refName := map[string]string{CaseRef: "case"}
	for _, c := range res.Contacts {
		refName[c.Ref] = names[c.Pseudonym]
	}
	got := map[string]bool{}
	var prev time.Time
	for i, c := range res.Contacts {
		name := names[c.Pseudonym]
		if c.Exposed.Before(prev) {
			t.Errorf("contact %d (%s) exposed at %v, before the one before it", i, name, c.Exposed)
		}
		prev = c.Exposed
		if got[name] {
			t.Errorf("%s reported twice", name)
		}
		got[name] = true
		w, ok := wants[name]
		if !ok {
			t.Errorf("unexpected contact %s: %+v", name, c)
			continue
		}
		var path []string
		for _, h := range c.Path {
			path = append(path, refName[h.Ref])
		}
		if c.Degree != w.degree || c.Venue != w.venue || !c.Exposed.Equal(w.exposed) || c.OverlapMinutes != w.overlap ||
			c.Stay.Exit != w.exit || c.Flagged != w.flagged || strings.Join(path, ">") != w.path ||
			refName[c.Via] != path[len(path)-2] || len(path) != c.Degree+1 {
			t.Errorf("%s: degree %d at %s, exposed %v, %d min, exit %v, flagged %v, path %s via %s; want %+v",
				name, c.Degree, c.Venue, c.Exposed.In(time.UTC), c.OverlapMinutes, c.Stay.Exit, c.Flagged,
				strings.Join(path, ">"), refName[c.Via], w)
		}
	}
	for name := range wants {
		if !got[name] {
			t.Errorf("missing contact %s", name)
		}
	}
}

// Ensure that traces of the scenario give the known answers on every
// backend: causality, exit scans versus default stays, the 15-minute and
// 23:45 bounds, the earliest of several exposures, the degree limit and
// flagged check-ins.
func TestTrace_KnownAnswers(t *testing.T) {
	degree1 := map[string]want{
		"M": {1, "bar", at(10, 20, 30), 30, false, false, "case>M"},
		"A": {1, "cafe", at(11, 10, 0), 40, true, false, "case>A"},
		"H": {1, "cafe", at(11, 10, 0), 15, false, true, "case>H"},
		"I": {1, "cafe", at(11, 10, 0), 5, true, false, "case>I"},
		"K": {1, "hall", at(11, 23, 52), 15, false, false, "case>K"},
		"P": {1, "restaurant", at(12, 9, 10), 50, false, false, "case>P"},
	}
	degree2 := map[string]want{
		"M": degree1["M"], "A": degree1["A"], "H": degree1["H"], "I": degree1["I"], "K": degree1["K"],
		"D": {2, "gym", at(11, 12, 30), 30, true, false, "case>A>D"},
		// P: earlier over 2 hops (the 11th) than over 1 (the 12th), but
		// its degree is the fewest hops, with the exposure of that path.
		"P": degree1["P"],
	}
	degree3 := map[string]want{"E": {3, "rest2", at(11, 15, 10), 50, false, false, "case>A>D>E"}}
	for k, v := range degree2 {
		degree3[k] = v
	}
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			w := scenario(t, openStore(t, backend))
			tr := w.tracer(at(14, 12, 0))
			for _, tt := range []struct {
				degree int
				want   map[string]want
			}{{1, degree1}, {0, degree2}, {2, degree2}, {3, degree3}, {4, degree3}} {
				res, err := tr.Trace(context.Background(), Request{Pseudonym: pseudonymOf("case"),
					Onset: at(12, 15, 0), Isolation: at(13, 0, 0), Degree: tt.degree})
				if err != nil {
					t.Fatal(err)
				}
				if !res.From.Equal(at(10, 0, 0)) || !res.To.Equal(at(13, 0, 0)) {
					t.Errorf("window %v .. %v", res.From, res.To)
				}
				if len(res.Case) != 5 { // bar, cafe, big, hall, restaurant
					t.Errorf("degree %d: %d case stays, want 5: %+v", tt.degree, len(res.Case), res.Case)
				}
				t.Run("degree"+string(rune('0'+tt.degree)), func(t *testing.T) { checkResult(t, res, tt.want) })
			}
		})
	}
}

// Ensure that an asymptomatic case's window starts two days before the
// test date, and that the default isolation is now.
func TestTrace_Asymptomatic(t *testing.T) {
	w := scenario(t, openStore(t, "bolt"))
	// Tested on the 13th: the window starts on the 11th, M's exposure on
	// the 10th is outside it (M's at the cafe counts instead); isolation
	// now = 12th 09:05, before P.
	res, err := w.tracer(at(12, 9, 5)).Trace(context.Background(), Request{Pseudonym: pseudonymOf("case"),
		Tested: at(13, 8, 0), Asymptomatic: true, Degree: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, map[string]want{
		"A": {1, "cafe", at(11, 10, 0), 40, true, false, "case>A"},
		"H": {1, "cafe", at(11, 10, 0), 15, false, true, "case>H"},
		"I": {1, "cafe", at(11, 10, 0), 5, true, false, "case>I"},
		"K": {1, "hall", at(11, 23, 52), 15, false, false, "case>K"},
		"M": {1, "cafe", at(11, 10, 45), 15, false, false, "case>M"},
	})
}

// Ensure that requests without the dates their window needs, with a
// degree out of range or an empty window are refused.
func TestTrace_Invalid(t *testing.T) {
	w := newWorld(t, openStore(t, "bolt"))
	tr := w.tracer(at(14, 0, 0))
	for _, req := range []Request{
		{},
		{Tested: at(12, 0, 0)},
		{Onset: at(12, 0, 0), Asymptomatic: true},
		{Onset: at(12, 0, 0), Degree: 5},
		{Onset: at(12, 0, 0), Degree: -1},
		{Onset: at(12, 0, 0), Isolation: at(9, 0, 0)},
	} {
		if _, err := tr.Trace(context.Background(), req); !errors.Is(err, ErrInvalid) {
			t.Errorf("Trace(%+v) = %v, want ErrInvalid", req, err)
		}
	}
}

// Ensure that stays pair an entry with the next check-in at its venue when
// that is an exit less than 24 h later, on the same day or the next, and
// are bounded to 15 min .. 23:45.
func TestStays(t *testing.T) {
	def := func(string) time.Duration { return time.Hour }
	ci := func(venue string, kind checkin.Kind, t time.Time) store.CheckIn {
		return store.CheckIn{Device: "k", Venue: venue, Kind: kind, Time: t}
	}
	for _, tt := range []struct {
		name string
		in   []store.CheckIn
		want [][2]time.Time
	}{
		{"exit", []store.CheckIn{ci("v", checkin.Entry, at(11, 10, 0)), ci("w", checkin.Entry, at(11, 10, 5)), ci("v", checkin.Exit, at(11, 10, 30))},
			[][2]time.Time{{at(11, 10, 0), at(11, 10, 30)}, {at(11, 10, 5), at(11, 11, 5)}}},
		{"re-entry first", []store.CheckIn{ci("v", checkin.Entry, at(11, 10, 0)), ci("v", checkin.Entry, at(11, 10, 20)), ci("v", checkin.Exit, at(11, 10, 30))},
			[][2]time.Time{{at(11, 10, 0), at(11, 11, 0)}, {at(11, 10, 20), at(11, 10, 35)}}},
		{"exit next day", []store.CheckIn{ci("v", checkin.Entry, at(11, 23, 30)), ci("v", checkin.Exit, at(12, 0, 10))},
			[][2]time.Time{{at(11, 23, 30), at(12, 0, 10)}}},
		{"overnight, other venues between", []store.CheckIn{ci("v", checkin.Entry, at(11, 22, 0)), ci("w", checkin.Entry, at(12, 1, 0)),
			ci("v", checkin.Exit, at(12, 6, 30))},
			[][2]time.Time{{at(11, 22, 0), at(12, 6, 30)}, {at(12, 1, 0), at(12, 2, 0)}}},
		{"entry next day first", []store.CheckIn{ci("v", checkin.Entry, at(11, 23, 30)), ci("v", checkin.Entry, at(12, 8, 0)),
			ci("v", checkin.Exit, at(12, 9, 0))},
			[][2]time.Time{{at(11, 23, 30), at(12, 0, 30)}, {at(12, 8, 0), at(12, 9, 0)}}},
		{"exit 23:50 later: bounded", []store.CheckIn{ci("v", checkin.Entry, at(11, 22, 0)), ci("v", checkin.Exit, at(12, 21, 50))},
			[][2]time.Time{{at(11, 22, 0), at(12, 21, 45)}}},
		{"exit 24 h later: not its exit", []store.CheckIn{ci("v", checkin.Entry, at(11, 22, 0)), ci("v", checkin.Exit, at(12, 22, 0))},
			[][2]time.Time{{at(11, 22, 0), at(11, 23, 0)}}},
		{"exit before the entry", []store.CheckIn{ci("v", checkin.Exit, at(12, 6, 0)), ci("v", checkin.Entry, at(12, 7, 0))},
			[][2]time.Time{{at(12, 7, 0), at(12, 8, 0)}}},
		{"orphan exit", []store.CheckIn{ci("v", checkin.Exit, at(11, 10, 0))}, nil},
		{"23:45", []store.CheckIn{ci("v", checkin.Entry, at(11, 0, 0)), ci("v", checkin.Exit, at(11, 23, 59))},
			[][2]time.Time{{at(11, 0, 0), at(11, 23, 45)}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := stays(tt.in, def)
			if len(got) != len(tt.want) {
				t.Fatalf("%d stays, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, s := range got {
				if !s.Start.Equal(tt.want[i][0]) || !s.End.Equal(tt.want[i][1]) {
					t.Errorf("stay %d: %v .. %v, want %v .. %v", i, s.Start, s.End, tt.want[i][0], tt.want[i][1])
				}
			}
		})
	}
}
