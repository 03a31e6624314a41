//go:build !kiosk_promclient

package kiosk

import (
	"io"

	"github.com/VictoriaMetrics/metrics"
)

// writeMetrics writes the kiosk's metrics in the Prometheus text format
// with github.com/VictoriaMetrics/metrics: a Set made for the scrape (no
// global registry; no HELP or TYPE lines: VictoriaMetrics sets those
// only globally), then the Go runtime's and the process's metrics
// (go_*, process_resident_memory_bytes, process_cpu_seconds_total, …).
// VictoriaMetrics/metrics was chosen over client_golang for the kiosk:
// it adds about a tenth of the binary size (docs/benchmarks.md, "Kiosk
// metrics library"); build with -tags kiosk_promclient for the other.
func writeMetrics(w io.Writer, st Status) {
	set := metrics.NewSet()
	for _, g := range kioskGauges(st) {
		v := g.v
		set.NewGauge(g.name, func() float64 { return v })
	}
	set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
}
