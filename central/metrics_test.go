package central

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/anshim/anshim/sync/wire"
)

// scrape fetches ts's /metrics and parses it.
func scrape(t *testing.T, ts *testServer) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(ts.HTTPURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return mfs
}

// value returns the value of the series of family name whose labels
// include labels (pairs), and whether there is one; for a histogram, its
// count.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// Ensure that /metrics, on client_golang with the Server's own registry,
// keeps the names dashboards use and exports the latency histograms
// (ingest batch and commit, HTTP by route, trace), the quarantines by
// reason and each kiosk's backlog from its status report; and that every
// metric the province's Grafana dashboard queries is exported.
func TestMetrics_Exported(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	k := ts.enroll(t, "cafe-1")
	nc, _ := k.connect(t, ts.NATSURL())
	js, _ := jetstream.New(nc)
	data, id := k.batches(ts.keys).next(t, 3)
	if _, err := js.Publish(ctx, k.enr.Subject, data, jetstream.WithMsgID(id)); err != nil {
		t.Fatal(err)
	}
	ts.waitStored(t, k.enr.Device, 3)
	// A malformed batch on the kiosk's subject is quarantined.
	if _, err := js.Publish(ctx, k.enr.Subject, []byte("not a batch")); err != nil {
		t.Fatal(err)
	}
	oldest := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	st, err := wire.DeviceStatus{V: wire.StatusVersion, Sent: time.Now(), Clock: "ntp-synced", Backlog: 7, OldestUnsynced: oldest, Version: "test"}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(wire.StatusSubject(k.enr.Device), st); err != nil {
		t.Fatal(err)
	}
	if code := ts.do(t, "GET", "/health", nil, false, nil); code != http.StatusOK {
		t.Fatalf("health: %d", code)
	}
	// A trace that finds no one still counts.
	if _, err := ts.Trace(ctx, TraceRequest{Phone: "010-0000-0000", CaseRef: "CASE-2026-0001", Onset: "2026-12-01"}, "kim"); err == nil {
		t.Log("the trace found someone")
	}

	var mfs map[string]*dto.MetricFamily
	dev, venue := k.enr.Device, "cafe-1"
	wants := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"anshim_central_devices_enrolled", nil, 1},
		{"anshim_central_checkins_stored", nil, 3},
		{"anshim_central_enrollments_total", nil, 1},
		{"anshim_central_nats_connected", nil, 1},
		{"anshim_ingest_batches_total", nil, 2},
		{"anshim_ingest_records_stored_total", nil, 3},
		{"anshim_ingest_quarantined_total", []string{"reason", "malformed"}, 1},
		{"anshim_ingest_quarantined_total", []string{"reason", "cannot-open"}, 0},
		{"anshim_ingest_batch_seconds", nil, 1},
		{"anshim_ingest_commit_seconds", nil, 1},
		{"anshim_central_http_request_duration_seconds", []string{"route", "GET /health", "code", "2xx"}, 1},
		{"anshim_central_trace_duration_seconds", nil, 1},
		{"anshim_central_device_backlog", []string{"device", dev, "venue", venue}, 7},
		{"anshim_central_device_oldest_unsynced_timestamp_seconds", []string{"device", dev}, float64(oldest.Unix())},
		{"anshim_central_fleet_backlog", nil, 7},
		{"anshim_central_fleet_oldest_unsynced_timestamp_seconds", nil, float64(oldest.Unix())},
	}
	var wrong []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		mfs = scrape(t, ts)
		wrong = wrong[:0]
		for _, w := range wants {
			if got, ok := value(mfs, w.name, w.labels...); !ok || got != w.want {
				wrong = append(wrong, fmt.Sprintf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.want))
			}
		}
		if len(wrong) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(wrong) > 0 {
		t.Errorf("metrics:\n%s", strings.Join(wrong, "\n"))
	}
	for _, name := range []string{"anshim_ingest_batch_seconds", "anshim_central_trace_duration_seconds", "anshim_central_http_request_duration_seconds"} {
		if mf := mfs[name]; mf == nil || mf.GetType() != dto.MetricType_HISTOGRAM {
			t.Errorf("%s is not a histogram", name)
		}
	}
	if _, ok := mfs["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}

	t.Run("grafana", func(t *testing.T) { checkDashboard(t, "../docs/grafana/anshim-province.json", mfs) })
}

// checkDashboard checks that a Grafana dashboard parses and that every
// anshim_ metric its queries name is in mfs (a histogram's _bucket, _sum
// and _count are its family's).
func checkDashboard(t *testing.T, path string, mfs map[string]*dto.MetricFamily) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: no title, uid or panels", path)
	}
	name := regexp.MustCompile(`\banshim_[a-z0-9_]+`)
	seen := map[string]bool{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			names := name.FindAllString(q.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no anshim_ metric", p.Title, q.Expr)
			}
			for _, n := range names {
				seen[n] = true
				family := n
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if f := strings.TrimSuffix(n, suffix); f != n && mfs[f] != nil && mfs[f].GetType() == dto.MetricType_HISTOGRAM {
						family = f
					}
				}
				if mfs[family] == nil {
					t.Errorf("panel %q queries %s, which the central does not export", p.Title, n)
				}
			}
		}
	}
	for _, want := range []string{"anshim_central_fleet_backlog", "anshim_central_fleet_oldest_unsynced_timestamp_seconds",
		"anshim_ingest_records_stored_total", "anshim_ingest_quarantined_total", "anshim_central_trace_duration_seconds_bucket"} {
		if !seen[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}
