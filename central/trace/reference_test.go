package trace

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/checkin"
)

// refScan is a check-in of the reference world, in clear.
type refScan struct {
	who   string
	venue string
	kind  checkin.Kind
	t     time.Time
}

// refStay is a stay computed by the reference.
type refStay struct {
	venue      string
	start, end time.Time
}

// refStays pairs one person's scans at each venue on its own, as docs/design.md
// §8 states the rule: an entry ends at the person's next scan at the venue
// when that is an exit less than 24 h later, else after the default stay;
// bounded to 15 min .. 23:45.
func refStays(scans []refScan, def map[string]time.Duration) []refStay {
	byVenue := map[string][]refScan{}
	for _, s := range scans {
		byVenue[s.venue] = append(byVenue[s.venue], s)
	}
	var out []refStay
	for v, ss := range byVenue {
		slices.SortStableFunc(ss, func(a, b refScan) int { return a.t.Compare(b.t) })
		for i, s := range ss {
			if s.kind != checkin.Entry {
				continue
			}
			end := s.t.Add(def[v])
			if i+1 < len(ss) && ss[i+1].kind == checkin.Exit && ss[i+1].t.Sub(s.t) < 24*time.Hour {
				end = ss[i+1].t
			}
			d := min(max(end.Sub(s.t), 15*time.Minute), (23*60+45)*time.Minute)
			out = append(out, refStay{v, s.t, s.t.Add(d)})
		}
	}
	return out
}

// refTrace computes degrees and exposures by brute force over every
// person's stays, hop count by hop count: e[k][p] is p's earliest exposure
// over paths of at most k hops; p's degree is the first k with one, and
// its reported exposure the earliest over paths of k hops.
func refTrace(stays map[string][]refStay, from, to, until time.Time, deg int) map[string]refContact {
	type interval struct {
		venue      string
		start, end time.Time
	}
	sourcesOf := func(who string, exposed, end time.Time) []interval {
		var out []interval
		for _, s := range stays[who] {
			if s.end.After(exposed) && s.start.Before(end) {
				out = append(out, interval{s.venue, later(s.start, exposed), earlier(s.end, end)})
			}
		}
		return out
	}
	prev := map[string]time.Time{} // e[k-1], without the case
	srcs := map[string][]interval{"case": sourcesOf("case", from, to)}
	out := map[string]refContact{}
	for k := 1; k <= deg; k++ {
		cur := map[string]time.Time{}
		for p, at := range prev {
			cur[p] = at
		}
		for q, qs := range srcs {
			for _, src := range qs {
				for p, ps := range stays {
					if p == q || p == "case" {
						continue
					}
					for _, s := range ps {
						if s.venue != src.venue {
							continue
						}
						at := later(s.start, src.start)
						if earlier(s.end, src.end).Sub(at) <= 0 {
							continue
						}
						if c, ok := out[p]; !ok || c.degree == k && at.Before(c.exposed) {
							out[p] = refContact{k, at}
						}
						if b, ok := cur[p]; !ok || at.Before(b) {
							cur[p] = at
						}
					}
				}
			}
		}
		srcs = map[string][]interval{}
		for p, at := range cur {
			srcs[p] = sourcesOf(p, at, until)
		}
		prev = cur
	}
	return out
}

type refContact struct {
	degree  int
	exposed time.Time
}

// Ensure that the engine, which reads only the check-ins it needs (venue
// windows, per-day tags, groups joined across midnight, batched on
// PostgreSQL), finds the same contacts, degrees and exposures as a brute
// force over everyone's stays, in random worlds with overnight stays,
// missing exits and entries, and re-entries.
func TestTrace_MatchesReference(t *testing.T) {
	seeds := 4
	if testing.Short() {
		seeds = 2
	}
	cats := []registry.Category{registry.Bathhouse, registry.PCRoom, registry.Bar, registry.Cafe, registry.Karaoke, registry.Other}
	for _, backend := range backends() {
		for seed := range seeds {
			t.Run(fmt.Sprintf("%s/seed%d", backend, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(seed), 99))
				w := newWorld(t, openStore(t, backend))
				def := map[string]time.Duration{}
				var venues []string
				for i, c := range cats {
					v := fmt.Sprintf("r%d", i)
					w.venue(v, c, 0)
					venues = append(venues, v)
					def[v] = time.Duration(c.DefaultStay()) * time.Minute
				}
				people := []string{"case"}
				for i := range 40 {
					people = append(people, fmt.Sprintf("p%02d", i))
				}
				var scans []refScan
				for _, p := range people {
					n := 3 + rng.IntN(5)
					if p == "case" {
						n = 8
					}
					for range n {
						v := venues[rng.IntN(len(venues))]
						// From the 9th 12:00 to the 13th 12:00, often in the
						// evening, so that many stays cross midnight.
						in := at(9, 12, 0).Add(time.Duration(rng.IntN(4*24*60)) * time.Minute)
						switch rng.IntN(6) {
						case 0: // no exit
							scans = append(scans, refScan{p, v, checkin.Entry, in})
						case 1: // an exit without its entry
							scans = append(scans, refScan{p, v, checkin.Exit, in})
						case 2: // overnight-long
							scans = append(scans, refScan{p, v, checkin.Entry, in},
								refScan{p, v, checkin.Exit, in.Add(time.Duration(6*60+rng.IntN(20*60)) * time.Minute)})
						default:
							scans = append(scans, refScan{p, v, checkin.Entry, in},
								refScan{p, v, checkin.Exit, in.Add(time.Duration(5+rng.IntN(240)) * time.Minute)})
						}
					}
				}
				slices.SortStableFunc(scans, func(a, b refScan) int { return a.t.Compare(b.t) })
				byPerson := map[string][]refScan{}
				for _, s := range scans {
					w.scan(s.who, s.venue, s.kind, s.t, 0)
					byPerson[s.who] = append(byPerson[s.who], s)
				}
				stays := map[string][]refStay{}
				for p, ss := range byPerson {
					stays[p] = refStays(ss, def)
				}
				names := map[[16]byte]string{}
				for _, p := range people {
					names[pseudonymOf(p)] = p
				}
				now := at(14, 12, 0)
				tr := w.tracer(now)
				for deg := 1; deg <= 3; deg++ {
					res, err := tr.Trace(context.Background(), Request{Pseudonym: pseudonymOf("case"),
						Onset: at(12, 15, 0), Isolation: at(13, 0, 0), Degree: deg})
					if err != nil {
						t.Fatal(err)
					}
					want := refTrace(stays, at(10, 0, 0), at(13, 0, 0), now, deg)
					got := map[string]refContact{}
					for _, c := range res.Contacts {
						got[names[c.Pseudonym]] = refContact{c.Degree, c.Exposed}
						if len(c.Path) != c.Degree+1 {
							t.Errorf("degree %d: %s: path of %d hops at degree %d", deg, names[c.Pseudonym], len(c.Path)-1, c.Degree)
						}
					}
					for p, wc := range want {
						if gc, ok := got[p]; !ok || gc.degree != wc.degree || !gc.exposed.Equal(wc.exposed) {
							t.Errorf("degree %d: %s = %+v (found %v), want %+v", deg, p, gc, ok, wc)
						}
					}
					for p, gc := range got {
						if _, ok := want[p]; !ok {
							t.Errorf("degree %d: %s = %+v, not a contact", deg, p, gc)
						}
					}
					if deg == 3 && len(want) < 5 {
						t.Errorf("only %d contacts at degree 3: a weak world", len(want))
					}
				}
			})
		}
	}
}
