package tracegraph

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/anshim/anshim/central/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// up returns the node an edge into n comes from, and whether there is
// exactly one.
func up(g *graph, n int) (int, bool) {
	from, found := -1, 0
	for _, e := range g.edges {
		if e.to == n {
			from = e.from
			found++
		}
	}
	return from, found == 1
}

func nodeIndex(g *graph, id string) int {
	for i, n := range g.nodes {
		if n.id == id {
			return i
		}
	}
	return -1
}

func TestNodesAndEdges(t *testing.T) {
	tests := []struct {
		name   string
		res    *trace.Result
		groups []string // ids of the venue hubs
	}{
		{"no contacts", result(), nil},
		{"one", result(person{ref: "C1", via: "case", venue: "v-1", minutes: 60}), nil},
		{"chain", result(
			person{ref: "C1", via: "case", venue: "v-1", minutes: 60},
			person{ref: "C2", via: "C1", venue: "v-2", minutes: 600},
			person{ref: "C3", via: "C2", venue: "v-3", minutes: 1200},
			person{ref: "C4", via: "C3", venue: "v-1", minutes: 1800},
		), nil},
		{"a group through a hub", result(
			person{ref: "C1", via: "case", venue: "v-1", minutes: 60},
			person{ref: "C2", via: "C1", venue: "v-2", minutes: 600},
			person{ref: "C3", via: "C1", venue: "v-2", minutes: 610},
			person{ref: "C4", via: "C1", venue: "v-2", minutes: 620},
			person{ref: "C5", via: "C1", venue: "v-3", minutes: 700},
		), []string{"g:C1:v-2"}},
		{"the case's venues", result(
			person{ref: "C1", via: "case", venue: "v-1", minutes: 60},
			person{ref: "C2", via: "case", venue: "v-1", minutes: 61},
			person{ref: "C3", via: "case", venue: "v-1", minutes: 62},
			person{ref: "C4", via: "case", venue: "v-9", minutes: 63},
			person{ref: "C5", via: "C4", venue: "v-9", minutes: 900},
		), []string{"g:case:v-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(tt.res, nil)
			var groups []string
			for _, n := range g.nodes {
				if n.kind == kindGroup {
					groups = append(groups, n.id)
				}
			}
			if strings.Join(groups, ",") != strings.Join(tt.groups, ",") {
				t.Errorf("venue hubs %q, want %q", groups, tt.groups)
			}
			// Each contact: one node, one edge in, from its parent on its
			// path, directly or through its group's hub.
			for _, c := range tt.res.Contacts {
				n := nodeIndex(g, c.Ref)
				if n < 0 {
					t.Fatalf("%s: no node", c.Ref)
				}
				p, ok := up(g, n)
				if !ok {
					t.Fatalf("%s: not exactly one edge in", c.Ref)
				}
				if g.nodes[p].kind == kindGroup {
					if want := "g:" + c.Via + ":" + c.Venue; g.nodes[p].id != want {
						t.Errorf("%s: through hub %s, want %s", c.Ref, g.nodes[p].id, want)
					}
					if p, ok = up(g, p); !ok {
						t.Fatalf("%s: its hub has not exactly one edge in", c.Ref)
					}
				}
				if want := c.Path[len(c.Path)-2].Ref; g.nodes[p].id != want {
					t.Errorf("%s: edge from %s, want %s", c.Ref, g.nodes[p].id, want)
				}
				if got, want := g.nodes[n].radius, g.rings[c.Degree-1]; got != want {
					t.Errorf("%s: on radius %v, want ring %d's %v", c.Ref, got, c.Degree, want)
				}
			}
			// The SVG: one contact node per contact, with its tooltip.
			es := parse(t, render(t, tt.res, nil))
			nodes := withClass(es, "node contact")
			if len(nodes) != len(tt.res.Contacts) {
				t.Fatalf("%d contact nodes, want %d", len(nodes), len(tt.res.Contacts))
			}
			for i, c := range tt.res.Contacts {
				if !strings.HasPrefix(nodes[i].title, c.Ref+": degree ") {
					t.Errorf("node %d's title %q, want %s's", i, nodes[i].title, c.Ref)
				}
			}
			if got, want := len(withClass(es, "edge")), len(g.edges); got != want {
				t.Errorf("%d edges drawn, want %d", got, want)
			}
			for _, e := range withClass(es, "edge") {
				if e.title == "" {
					t.Errorf("an edge without a title: %v", e.attrs)
				}
			}
		})
	}
}

// TestEscaped: names with markup are escaped in labels and tooltips, and
// nothing the page's Content-Security-Policy forbids is drawn.
func TestEscaped(t *testing.T) {
	bad := map[string]string{
		"v-1": `<script>alert(1)</script>`,
		"v-2": `Tom & "Jerry's" <b>`,
		"v-3": "nul\x00 and \xff bad UTF-8",
	}
	res := result(
		person{ref: "C1", via: "case", venue: "v-1", minutes: 60},
		person{ref: "C2", via: "C1", venue: "v-2", minutes: 600},
		person{ref: "C3", via: "C1", venue: "v-3", minutes: 700},
	)
	for _, lang := range []string{"en", "ko"} {
		t.Run(lang, func(t *testing.T) {
			svg := render(t, res, &Options{VenueName: func(id string) string { return bad[id] }, Lang: lang, IDPrefix: `x"><script>`})
			for _, no := range []string{"<script", "<b>", "style=", "<style", "javascript:", "\x00", "onload", "<foreignObject"} {
				if bytes.Contains(svg, []byte(no)) {
					t.Errorf("the SVG holds %q", no)
				}
			}
			if !bytes.Contains(svg, []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) {
				t.Error("the venue <script> is not in the SVG, escaped")
			}
			es := parse(t, svg)
			titles := ""
			for _, e := range es {
				if e.name == "title" || e.name == "text" {
					titles += e.text + "\n"
				}
			}
			for _, want := range []string{bad["v-1"], `Tom & "Jerry's" <b>`} {
				if !strings.Contains(titles, want) {
					t.Errorf("no title or label reads %q once decoded", want)
				}
			}
		})
	}
}

// TestGolden compares a small graph with testdata/small.svg (go test
// -update rewrites it).
func TestGolden(t *testing.T) {
	res := result(
		person{ref: "C1", via: "case", venue: "v-01", minutes: 60},
		person{ref: "C2", via: "case", venue: "v-01", minutes: 65},
		person{ref: "C3", via: "case", venue: "v-01", minutes: 70},
		person{ref: "C4", via: "case", venue: "v-02", minutes: 300},
		person{ref: "C5", via: "C1", venue: "v-05", minutes: 900, flagged: true},
		person{ref: "C6", via: "C1", venue: "v-05", minutes: 905},
		person{ref: "C7", via: "C1", venue: "v-05", minutes: 910},
		person{ref: "C8", via: "C4", venue: "v-06", minutes: 1000},
		person{ref: "C9", via: "C8", venue: "v-07", minutes: 2000},
		person{ref: "C10", via: "C9", venue: "v-08", minutes: 3000},
	)
	got := render(t, res, &Options{VenueName: venueName})
	path := filepath.Join("testdata", "small.svg")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the SVG differs from %s (go test -update rewrites it after a check by eye):\n%s", path, got)
	}
	parse(t, want)
}

func TestChooseCut(t *testing.T) {
	tests := []struct {
		name      string
		degrees   []int // contacts of degree 1, 2, 3, 4
		threshold int
		want      int
	}{
		{"at the threshold", []int{10, 100, 190}, 300, 0},
		{"over: degree 3 collapsed", []int{10, 100, 191}, 300, 3},
		{"degree 2 too", []int{10, 291, 10}, 300, 2},
		{"degree 1 too", []int{301, 5}, 300, 1},
		{"degree 4 only", []int{100, 100, 100, 1}, 300, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cs []trace.Contact
			for d, n := range tt.degrees {
				for range n {
					cs = append(cs, trace.Contact{Degree: d + 1})
				}
			}
			if got := chooseCut(cs, tt.threshold); got != tt.want {
				t.Errorf("cut %d, want %d", got, tt.want)
			}
		})
	}
}

// TestCollapse: large traces are drawn with a bounded number of nodes,
// every contact counted once.
func TestCollapse(t *testing.T) {
	tests := []struct {
		name      string
		res       *trace.Result
		threshold int
		cut       int
	}{
		{"1,000 contacts, degree 3", synth(1000, 3, 2), 0, 3},
		{"1,000 contacts, degree 2", synth(1000, 2, 3), 0, 2},
		{"5,000 contacts: 500 of degree 1, all by venue", synth(5000, 3, 9), 0, 1},
		{"200 contacts, threshold 100", synth(200, 3, 4), 100, 3},
		{"200 contacts, threshold 40", synth(200, 3, 4), 40, 2},
		{"200 contacts, not collapsed", synth(200, 3, 4), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &Options{VenueName: venueName, Threshold: tt.threshold}
			threshold := cmpOr(tt.threshold, DefaultThreshold)
			g := build(tt.res, opts)
			if g.cut != tt.cut {
				t.Fatalf("cut %d, want %d", g.cut, tt.cut)
			}
			counted, venues := 0, map[string]bool{}
			for _, c := range tt.res.Contacts {
				venues[c.Venue] = true
			}
			hubs := 0
			for _, n := range g.nodes {
				switch n.kind {
				case kindContact:
					counted++
				case kindVenue:
					hubs++
					counted += n.count
				}
			}
			if counted != len(tt.res.Contacts) {
				t.Errorf("%d contacts drawn or counted, want %d", counted, len(tt.res.Contacts))
			}
			es := parse(t, render(t, tt.res, opts))
			drawn := len(withClass(es, "node contact"))
			if tt.cut > 0 && drawn > threshold {
				t.Errorf("%d contact nodes, want at most %d", drawn, threshold)
			}
			if got := len(withClass(es, "node venue")); got != hubs || hubs > len(venues) {
				t.Errorf("%d collapsed venue nodes drawn, %d laid out, %d venues", got, hubs, len(venues))
			}
			if tt.cut > 0 && len(withClass(es, "node")) > threshold+3*len(venues) {
				t.Errorf("%d nodes in all: not bounded", len(withClass(es, "node")))
			}
			for _, e := range withClass(es, "node venue") {
				d, err := strconv.Atoi(strings.TrimPrefix(e.attrs["class"], "node venue d"))
				if !strings.Contains(e.title, "contacts collapsed") || err != nil || d < tt.cut {
					t.Errorf("a collapsed venue: class %q, title %q", e.attrs["class"], e.title)
				}
			}
		})
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// TestWellFormed decodes every token of graphs of many shapes.
func TestWellFormed(t *testing.T) {
	tests := []struct {
		name string
		res  *trace.Result
		opts *Options
	}{
		{"empty", &trace.Result{}, nil},
		{"realistic", synth(200, 3, 1), &Options{VenueName: venueName}},
		{"Korean", synth(200, 3, 1), &Options{VenueName: func(string) string { return "제주 동문시장 <1>" }, Lang: "ko"}},
		{"collapsed", synth(1000, 4, 5), &Options{VenueName: venueName}},
		{"a path with an unknown parent", &trace.Result{Contacts: []trace.Contact{
			{Ref: "C1", Degree: 2, Venue: "v-1", Via: "C9", Path: []trace.Hop{{Ref: "case"}, {Ref: "C9"}, {Ref: "C1"}}},
		}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := parse(t, render(t, tt.res, tt.opts))
			root := es[0]
			if root.name != "svg" || root.attrs["role"] != "img" {
				t.Fatalf("root <%s role=%q>, want <svg role=\"img\">", root.name, root.attrs["role"])
			}
			if es[1].name != "title" || es[2].name != "desc" || es[1].text == "" || es[2].text == "" {
				t.Errorf("the svg does not start with a <title> and a <desc>")
			}
			want := es[1].attrs["id"] + " " + es[2].attrs["id"]
			if root.attrs["aria-labelledby"] != want {
				t.Errorf("aria-labelledby %q, want %q", root.attrs["aria-labelledby"], want)
			}
			for _, e := range es {
				if _, ok := e.attrs["style"]; ok || e.name == "style" || e.name == "script" {
					t.Errorf("<%s> with a style or script", e.name)
				}
			}
		})
	}
}

func TestDescription(t *testing.T) {
	tests := []struct {
		name string
		res  *trace.Result
		lang string
		want string
	}{
		{"none", result(), "en", "The case at the centre and no contacts."},
		{"counts", result(
			person{ref: "C1", via: "case", venue: "v-1", minutes: 60, flagged: true},
			person{ref: "C2", via: "C1", venue: "v-2", minutes: 600},
			person{ref: "C3", via: "C1", venue: "v-2", minutes: 601},
		), "en", "The case at the centre and 3 contacts on rings by degree (1 of degree 1, 2 of degree 2), exposed at 2 venues. 1 flagged."},
		{"Korean", result(
			person{ref: "C1", via: "case", venue: "v-1", minutes: 60},
		), "ko", "가운데 확진자, 차수별 고리에 접촉자 1명 (1차 1명), 시설 1곳."},
		{"collapsed", synth(400, 3, 1), "en", "Contacts of degree 3 and more are drawn as one node per venue with a count."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := parse(t, render(t, tt.res, &Options{Lang: tt.lang}))
			if got := es[2].text; !strings.HasSuffix(got, tt.want) {
				t.Errorf("desc %q, want it to end %q", got, tt.want)
			}
		})
	}
}

// TestReadable: on a realistic trace no two contacts overlap and no two
// labels do; output is the same each time. TRACEGRAPH_SVG=FILE writes it
// to look at.
func TestReadable(t *testing.T) {
	res := synth(200, 3, 1)
	opts := &Options{VenueName: venueName}
	svg := render(t, res, opts)
	if again := render(t, res, opts); !bytes.Equal(svg, again) {
		t.Fatal("two renders differ")
	}
	if out := os.Getenv("TRACEGRAPH_SVG"); out != "" {
		if err := os.WriteFile(out, svg, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g := build(res, opts)
	var cs []node
	for _, n := range g.nodes {
		if n.kind == kindContact {
			cs = append(cs, n)
		}
	}
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			if d := math.Hypot(cs[i].x-cs[j].x, cs[i].y-cs[j].y); d < cs[i].r+cs[j].r {
				t.Fatalf("%s and %s overlap: %.1f apart, radii %.1f and %.1f", cs[i].id, cs[j].id, d, cs[i].r, cs[j].r)
			}
		}
	}
	ls := g.place()
	if len(ls) < 40 {
		t.Errorf("%d visible labels, want at least 40", len(ls))
	}
	var p placer
	for _, l := range ls {
		if !p.try(l.text, l.size, label{x: l.x, y: l.y, anchor: l.anchor}) {
			t.Errorf("label %q overlaps another", l.text)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderErrors(t *testing.T) {
	if err := Render(&bytes.Buffer{}, nil, nil); !errors.Is(err, ErrNoResult) {
		t.Errorf("nil result: %v, want ErrNoResult", err)
	}
	if err := Render(failWriter{}, result(), nil); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("a failing writer: %v", err)
	}
}

func BenchmarkRender(b *testing.B) {
	for _, n := range []int{300, 5000} {
		res := synth(n, 3, 9)
		opts := &Options{VenueName: venueName}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := Render(&buf, res, opts); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/svg")
		})
	}
}
