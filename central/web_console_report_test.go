package central

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// Ensure, against a real central, that the printable case report holds
// the trace's contact graph as inline SVG (in the report's own section,
// with ids of its own) drawing one node per contact of the report's
// contacts table, each titled by its ref, and the case once; that it holds
// no identity, script or inline style; and that the report follows the
// page's language.
func TestConsoleReport_Graph(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	kst := daykeys.KST
	// The case at a cafe with four others; one of them at a gym later
	// with two more: 4 first-degree and 2 second-degree contacts.
	names := []string{"김확진", "박하나", "이두리", "최세나", "정네오", "강다섯", "조여섯"}
	ids := make([]string, len(names))
	for i, n := range names {
		p, err := ts.vault.Register(ctx, n, "010-5000-"+strconv.Itoa(1000+i))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = p.ID
	}
	for _, v := range []store.Venue{
		{ID: "v-cafe", Name: "한라카페", Address: "제주시 중앙로 1", Category: registry.Cafe, DefaultStay: 45},
		{ID: "v-gym", Name: "연동헬스", Address: "제주시 연동 2", Category: registry.Gym, DefaultStay: 60},
	} {
		v.Created = ts.clock.Now()
		if err := ts.store.AddVenue(ctx, v); err != nil {
			t.Fatal(err)
		}
		if err := ts.store.AddDevice(ctx, store.Device{ID: "k-" + v.ID, Venue: v.ID, NKey: "UK" + strings.ToUpper(strings.TrimPrefix(v.ID, "v-")), Enrolled: ts.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		ts.checkInAt(t, ids[i], "v-cafe", uint64(i+1), checkin.Entry, time.Date(2026, 3, 2, 10, 5*i, 0, 0, kst))
	}
	ts.checkInAt(t, ids[1], "v-gym", 1, checkin.Entry, time.Date(2026, 3, 2, 13, 0, 0, 0, kst))
	ts.checkInAt(t, ids[5], "v-gym", 2, checkin.Entry, time.Date(2026, 3, 2, 13, 10, 0, 0, kst))
	ts.checkInAt(t, ids[6], "v-gym", 3, checkin.Entry, time.Date(2026, 3, 2, 13, 20, 0, 0, kst))

	b := signInInvestigator(t, ts, "kim.epi")
	code, loc, body := b.do("POST", "/console/cases", url.Values{"case_ref": {"JJ-2026-31"}, "phone": {"010-5000-1000"}, "onset": {"2026-03-03"}, "degree": {"2"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
		t.Fatalf("open case = %d %q %s", code, loc, body)
	}
	for _, lang := range []string{"ko", "en"} {
		code, _, rep := b.do("GET", loc+"/report?lang="+lang, nil)
		if code != http.StatusOK {
			t.Fatalf("report (%s) = %d", lang, code)
		}
		rows := regexp.MustCompile(`<tr class="contact" data-ref="(C\d+)">`).FindAllStringSubmatch(rep, -1)
		if len(rows) != 6 {
			t.Fatalf("the report's contacts table has %d rows, want the scenario's 6", len(rows))
		}
		sec := regexp.MustCompile(`(?s)<section class="report-graph"[^>]*>.*?</section>`).FindString(rep)
		if sec == "" {
			t.Fatalf("the report (%s) has no graph section", lang)
		}
		svg := regexp.MustCompile(`(?s)<svg [^>]*class="tracegraph".*?</svg>`).FindString(sec)
		if svg == "" || !strings.Contains(svg, `aria-labelledby="report-graph-title report-graph-desc"`) {
			t.Fatalf("the report's graph section holds no contact graph of its own ids")
		}
		nodes := regexp.MustCompile(`<circle class="node contact d(\d)"[^>]*><title>(C\d+)[:：]`).FindAllStringSubmatch(svg, -1)
		if len(nodes) != len(rows) {
			t.Errorf("the report's graph draws %d contact nodes, its table %d contacts", len(nodes), len(rows))
		}
		drawn := map[string]bool{}
		for _, n := range nodes {
			drawn[n[2]] = true
		}
		for _, r := range rows {
			if !drawn[r[1]] {
				t.Errorf("contact %s has no node in the report's graph", r[1])
			}
		}
		if n := strings.Count(svg, `class="node case"`); n != 1 {
			t.Errorf("the report's graph draws %d case nodes, want 1", n)
		}
		want := map[string]string{"ko": "2차", "en": "degree 2"}[lang]
		if !strings.Contains(svg, want) {
			t.Errorf("the report's graph (%s) lacks %q", lang, want)
		}
		for _, n := range names[1:] {
			if strings.Contains(rep, n) {
				t.Errorf("the report shows %s before a reveal", n)
			}
		}
		if strings.Contains(svg, "<script") || strings.Contains(svg, "style=") {
			t.Error("the report's graph holds a script or an inline style")
		}
	}
}
