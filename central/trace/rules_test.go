package trace

import (
	"context"
	"testing"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// overnight is the known-answer world of exits scanned after midnight
// (November 2026, KST). The case's onset is the 12th: its window is the
// 10th 00:00 to isolation on the 13th 00:00. Default stays: pc-room 120
// min, bathhouse 90 min.
//
//	pc0 (PC room)
//	  case  9th 21:00 → 10th 03:00 (exit)   crosses the window's start: a source from 10th 00:00 to 03:00
//	  T0    9th 22:00 →  9th 23:00 (exit)   before the window: none
//	  T2    9th 23:30 → 10th 00:30 (exit)   overlap 00:00–00:30 = 30 min, exposed at the window's start
//	  T1   10th 01:00 → 10th 02:00 (exit)   overlap 01:00–02:00 = 60 min
//	jjim (bathhouse, 찜질방)
//	  case 10th 22:00 → 11th 06:30 (exit)   a source from 22:00 to 06:30
//	  V    10th 20:00 → 11th 02:00 (exit)   overlap 22:00–02:00 = 240 min
//	  W    10th 21:00, next at jjim: exit 11th 22:00, 25 h later, not its exit:
//	       default stay 21:00–22:30         overlap 22:00–22:30 = 30 min, no exit
//	  S    11th 05:00 → 11th 07:00 (exit)   overlap 05:00–06:30 = 90 min
//
// Degree 2 adds no one: V, W and S pass exposure on only at jjim (from
// 22:00, 22:00 and 05:00), where everyone else is of degree 1 at an
// exposure no later; T1 and T2 meet no one else at pc0 after theirs.
//
// Pairing exits within a KST day only (the old rule) made the case's stays
// 9th 21:00–23:00 (outside the window) and 10th 22:00–23:30, V's 20:00–21:30
// and T2's 23:30–01:30: T1, V and S were missed, and T2's overlap was wrong.
func overnight(tb testing.TB, st store.Store) *world {
	w := newWorld(tb, st)
	w.venue("pc0", registry.PCRoom, 0)
	w.venue("jjim", registry.Bathhouse, 0)

	w.in("case", "pc0", at(9, 21, 0))
	w.in("T0", "pc0", at(9, 22, 0))
	w.out("T0", "pc0", at(9, 23, 0))
	w.in("T2", "pc0", at(9, 23, 30))
	w.out("T2", "pc0", at(10, 0, 30))
	w.in("T1", "pc0", at(10, 1, 0))
	w.out("T1", "pc0", at(10, 2, 0))
	w.out("case", "pc0", at(10, 3, 0))

	w.in("V", "jjim", at(10, 20, 0))
	w.in("W", "jjim", at(10, 21, 0))
	w.in("case", "jjim", at(10, 22, 0))
	w.out("V", "jjim", at(11, 2, 0))
	w.in("S", "jjim", at(11, 5, 0))
	w.out("case", "jjim", at(11, 6, 30))
	w.out("S", "jjim", at(11, 7, 0))
	w.out("W", "jjim", at(11, 22, 0))
	return w
}

// Ensure that an exit scanned after midnight ends its stay (within the
// 23:45 bound), for the case and for its contacts alike, on every
// backend, and that a case stay crossing the window's start counts from
// the start.
func TestTrace_Overnight(t *testing.T) {
	want := map[string]want{
		"T2": {1, "pc0", at(10, 0, 0), 30, true, false, "case>T2"},
		"T1": {1, "pc0", at(10, 1, 0), 60, true, false, "case>T1"},
		"V":  {1, "jjim", at(10, 22, 0), 240, true, false, "case>V"},
		"W":  {1, "jjim", at(10, 22, 0), 30, false, false, "case>W"},
		"S":  {1, "jjim", at(11, 5, 0), 90, true, false, "case>S"},
	}
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			w := overnight(t, openStore(t, backend))
			tr := w.tracer(at(14, 12, 0))
			for _, degree := range []int{1, 2, 3} {
				res, err := tr.Trace(context.Background(), Request{Pseudonym: pseudonymOf("case"),
					Onset: at(12, 15, 0), Isolation: at(13, 0, 0), Degree: degree})
				if err != nil {
					t.Fatal(err)
				}
				// The case's stays: pc0 9th 21:00 – 10th 03:00, jjim 10th
				// 22:00 – 11th 06:30, both ended by their exits.
				if len(res.Case) != 2 ||
					!res.Case[0].Start.Equal(at(9, 21, 0)) || !res.Case[0].End.Equal(at(10, 3, 0)) || !res.Case[0].Exit ||
					!res.Case[1].Start.Equal(at(10, 22, 0)) || !res.Case[1].End.Equal(at(11, 6, 30)) || !res.Case[1].Exit {
					t.Errorf("degree %d: case stays %+v", degree, res.Case)
				}
				t.Run("degree"+string(rune('0'+degree)), func(t *testing.T) { checkResult(t, res, want) })
			}
		})
	}
}

// shortest is the known-answer world of the degree rule (November 2026,
// KST; window the 10th 00:00 to the 13th 00:00). Default stays: cafe 45
// min, pc-room 120, karaoke 90, bar 90.
//
//	cafe2    case 11th 10:00–11:00 (exit); Y 10:00–10:30 (exit)  → Y: degree 1 at 10:00, 30 min
//	pc       Y 14:00–15:00 (exit); X 14:30–16:00 (exit)          → X exposed via Y at 14:30 (2 hops)
//	bar2     X 17:00–18:30 (exit); Z 17:00, no exit: 17:00–18:30 → Z exposed via X at 17:00
//	karaoke  case 20:00–21:00 (exit); X 20:30–21:30 (exit)      → X: degree 1 at 20:30, 30 min
//	bar2     X 22:00–23:00 (exit); Z2 22:15–22:45 (exit)         → Z2 exposed via X at 22:15, 30 min
//
// Degree 1: Y (case>Y) and X (case>X at 20:30): the fewest hops of X is
// one, so X is reported at degree 1 although a 2-hop path reaches X
// earlier (14:30).
// Degree 2: onward spread from X uses X's earliest exposure over paths of
// at most 1 hop, 20:30: Z2 at 22:15 (case>X>Z2, 22:15–22:45 within X's
// 22:00–23:00: 30 min). Z met X at 17:00, before 20:30: not yet.
// Degree 3: onward spread from X now uses its earliest exposure over paths
// of at most 2 hops, 14:30 (case>Y>X): Z at 17:00 (case>Y>X>Z, 17:00–18:30:
// 90 min). Z2 is found again at 22:15 over 3 hops: it keeps degree 2.
//
// The old rule (the earliest exposure replaces the degree) reported X at
// degree 2 (case>Y>X, pc, 14:30).
func shortest(tb testing.TB, st store.Store) *world {
	w := newWorld(tb, st)
	w.venue("cafe2", registry.Cafe, 0)
	w.venue("pc", registry.PCRoom, 0)
	w.venue("bar2", registry.Bar, 0)
	w.venue("karaoke", registry.Karaoke, 0)

	w.in("case", "cafe2", at(11, 10, 0))
	w.in("Y", "cafe2", at(11, 10, 0))
	w.out("Y", "cafe2", at(11, 10, 30))
	w.out("case", "cafe2", at(11, 11, 0))

	w.in("Y", "pc", at(11, 14, 0))
	w.in("X", "pc", at(11, 14, 30))
	w.out("Y", "pc", at(11, 15, 0))
	w.out("X", "pc", at(11, 16, 0))

	w.in("X", "bar2", at(11, 17, 0))
	w.in("Z", "bar2", at(11, 17, 0))
	w.out("X", "bar2", at(11, 18, 30))

	w.in("case", "karaoke", at(11, 20, 0))
	w.in("X", "karaoke", at(11, 20, 30))
	w.out("case", "karaoke", at(11, 21, 0))
	w.out("X", "karaoke", at(11, 21, 30))

	w.in("X", "bar2", at(11, 22, 0))
	w.in("Z2", "bar2", at(11, 22, 15))
	w.out("Z2", "bar2", at(11, 22, 45))
	w.out("X", "bar2", at(11, 23, 0))
	return w
}

// Ensure that a contact's degree is the fewest hops of any time-respecting
// path from the case, reported with the earliest exposure over paths of
// that many hops, and that onward spread at degree k uses the earliest
// exposure over paths of at most k−1 hops, on every backend.
func TestTrace_ShortestDegree(t *testing.T) {
	degree1 := map[string]want{
		"Y": {1, "cafe2", at(11, 10, 0), 30, true, false, "case>Y"},
		"X": {1, "karaoke", at(11, 20, 30), 30, true, false, "case>X"},
	}
	degree2 := map[string]want{
		"Y":  degree1["Y"],
		"X":  degree1["X"],
		"Z2": {2, "bar2", at(11, 22, 15), 30, true, false, "case>X>Z2"},
	}
	degree3 := map[string]want{
		"Y":  degree1["Y"],
		"X":  degree1["X"],
		"Z2": degree2["Z2"],
		"Z":  {3, "bar2", at(11, 17, 0), 90, false, false, "case>Y>X>Z"},
	}
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			w := shortest(t, openStore(t, backend))
			tr := w.tracer(at(14, 12, 0))
			for _, tt := range []struct {
				degree int
				want   map[string]want
			}{{1, degree1}, {2, degree2}, {3, degree3}, {4, degree3}} {
				res, err := tr.Trace(context.Background(), Request{Pseudonym: pseudonymOf("case"),
					Onset: at(12, 15, 0), Isolation: at(13, 0, 0), Degree: tt.degree})
				if err != nil {
					t.Fatal(err)
				}
				t.Run("degree"+string(rune('0'+tt.degree)), func(t *testing.T) { checkResult(t, res, tt.want) })
			}
		})
	}
}
