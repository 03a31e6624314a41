package ingest

import (
	"strings"
	"testing"
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
