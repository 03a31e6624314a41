package ingest

import (
	"strings"
	"testing"
	"time"
)

// Ensure that the metrics are written in the Prometheus text format, with
// one quarantine line per reason.
func TestMetrics_WritePrometheus(t *testing.T) {
	var m Metrics
	m.Batches.Add(3)
	m.Stored.Add(200)
	m.quarantine(ReasonCannotOpen)
	m.quarantine(ReasonCannotOpen)
	m.quarantine("no-such-reason")
	if got := m.Quarantined(ReasonCannotOpen); got != 2 {
		t.Fatalf("Quarantined(cannot-open) = %d, want 2", got)
	}
	if got := m.Quarantined("no-such-reason"); got != 0 {
		t.Fatalf("Quarantined of an unknown reason = %d", got)
	}
	var b strings.Builder
	if err := m.WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# TYPE anshim_ingest_batches_total counter\nanshim_ingest_batches_total 3\n",
		"anshim_ingest_records_stored_total 200\n",
		`anshim_ingest_quarantined_total{reason="cannot-open"} 2` + "\n",
		`anshim_ingest_quarantined_total{reason="sequence-gap"} 0` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "anshim_ingest_quarantined_total{"); n != len(Reasons()) {
		t.Errorf("%d quarantine lines, want one per reason (%d)", n, len(Reasons()))
	}
}

// Ensure that ObserveBatch fills the latency histograms, leaving out an
// unknown publish time, and that they are exported with their buckets.
func TestMetrics_ObserveBatch(t *testing.T) {
	var m Metrics
	m.ObserveBatch(3*time.Millisecond, 200*time.Millisecond)
	m.ObserveBatch(30*time.Millisecond, -1) // no publish time
	var b strings.Builder
	if err := m.WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"# TYPE anshim_ingest_batch_seconds histogram\n", true},
		{`anshim_ingest_batch_seconds_bucket{le="0.1"} 0` + "\n", true},
		{`anshim_ingest_batch_seconds_bucket{le="0.25"} 1` + "\n", true},
		{"anshim_ingest_batch_seconds_count 1\n", true},
		{`anshim_ingest_commit_seconds_bucket{le="0.005"} 1` + "\n", true},
		{"anshim_ingest_commit_seconds_count 2\n", true},
	} {
		if strings.Contains(out, tc.line) != tc.want {
			t.Errorf("output has %q: %v, want %v:\n%s", tc.line, !tc.want, tc.want, out)
		}
	}
}
