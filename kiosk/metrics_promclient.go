//go:build kiosk_promclient

package kiosk

import (
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// writeMetrics is metrics.go's with github.com/prometheus/client_golang,
// built with -tags kiosk_promclient to measure the two libraries on the
// kiosk (docs/benchmarks.md, "Kiosk metrics library"): a registry made
// for the scrape, the kiosk's gauges, the Go and process collectors.
func writeMetrics(w io.Writer, st Status) {
	reg := prometheus.NewRegistry()
	for _, g := range kioskGauges(st) {
		v := g.v
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help}, func() float64 { return v }))
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mfs, err := reg.Gather()
	if err != nil {
		return
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		enc.Encode(mf)
	}
}
