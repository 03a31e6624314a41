package central

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// metrics are the central's own counters and histograms. The zero value
// is ready; the registry, one per Server (no global default registry), is
// made on first use.
type metrics struct {
	enrollments    atomic.Uint64
	enrollFailures atomic.Uint64
	revocations    atomic.Uint64
	httpRequests   atomic.Uint64
	httpErrors     atomic.Uint64 // responses with status >= 500
	// receiptsPublished counts ledger receipts published to kiosks.
	receiptsPublished atomic.Uint64
	// ledgerForkAlerts counts fork evidence reported by kiosks.
	ledgerForkAlerts atomic.Uint64

	// kvConsumersRemoved counts consumers of the KV streams the consumer
	// guard removed (consumerguard.go).
	kvConsumersRemoved atomic.Uint64

	once         sync.Once
	httpSeconds  *prometheus.HistogramVec // by route pattern and status class
	traceSeconds prometheus.Histogram
	regOnce      sync.Once
	reg          *prometheus.Registry
}

func (m *metrics) init() {
	m.once.Do(func() {
		m.httpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "anshim_central_http_request_duration_seconds",
			Help:    "Seconds to answer an HTTP request, by route pattern and status class.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"route", "code"})
		m.traceSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "anshim_central_trace_duration_seconds",
			Help:    "Seconds of a contact trace (POST /v1/traces and the console), audit event included.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		})
	})
}

// observeTrace records a trace that started at start; the trace API calls
// it deferred: defer s.metrics.observeTrace(time.Now()).
func (m *metrics) observeTrace(start time.Time) {
	m.init()
	m.traceSeconds.Observe(time.Since(start).Seconds())
}

// instrument measures h's answers into anshim_central_http_request_duration_seconds.
// h is the ServeMux: the route label is the pattern it matched (a bounded
// set), "unmatched" when none did.
func (m *metrics) instrument(h http.Handler) http.Handler {
	m.init()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		route := r.Pattern // set by the ServeMux on r
		if route == "" {
			route = "unmatched"
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		m.httpSeconds.WithLabelValues(route, strconv.Itoa(code/100)+"xx").Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// registry returns the Server's metrics registry, made on first use: the
// central's counters and histograms, the store's device totals, each
// device's backlog from its last status report, ingest's counters and
// histograms, and the Go runtime's and the process's collectors.
func (s *Server) registry() *prometheus.Registry {
	m := s.metrics
	m.regOnce.Do(func() {
		m.init()
		reg := prometheus.NewRegistry()
		counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
		}
		reg.MustRegister(
			counter("anshim_central_enrollments_total", "Successful enrollments since start.", &m.enrollments),
			counter("anshim_central_enroll_failures_total", "Refused or failed enrollments since start.", &m.enrollFailures),
			counter("anshim_central_revocations_total", "Passes revoked since start.", &m.revocations),
			counter("anshim_central_http_requests_total", "HTTP requests since start.", &m.httpRequests),
			counter("anshim_central_http_errors_total", "HTTP responses with a 5xx status since start.", &m.httpErrors),
			counter("anshim_central_ledger_receipts_published_total", "Ledger receipts published to kiosks since start.", &m.receiptsPublished),
			counter("anshim_central_ledger_fork_alerts_total", "Ledger fork evidence reported by kiosks since start.", &m.ledgerForkAlerts),
			counter("anshim_central_kv_consumers_removed_total", "Consumers of the KV streams removed by the consumer guard since start (not the shape of a kiosk watch).", &m.kvConsumersRemoved),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "anshim_central_nats_connected", Help: "1 while the central's NATS connection is up."}, func() float64 {
				if s.nc != nil && s.nc.IsConnected() {
					return 1
				}
				return 0
			}),
			m.httpSeconds,
			m.traceSeconds,
			&storeCollector{s: s},
			s.ingestMetrics,
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		m.reg = reg
	})
	return m.reg
}

// storeCollector reports what the store knows at scrape time: device
// totals, and each device's backlog and oldest unsynced record from its
// last status report (wire.DeviceStatus).
type storeCollector struct{ s *Server }

var (
	devicesDesc     = prometheus.NewDesc("anshim_central_devices_enrolled", "Enrolled kiosks.", nil, nil)
	storedDesc      = prometheus.NewDesc("anshim_central_checkins_stored", "Check-ins stored, all devices.", nil, nil)
	quarantinedDesc = prometheus.NewDesc("anshim_central_quarantined", "Quarantine entries of enrolled devices.", nil, nil)
	breaksDesc      = prometheus.NewDesc("anshim_central_chain_breaks", "Sequence gaps and chain breaks seen.", nil, nil)
	backlogDesc     = prometheus.NewDesc("anshim_central_device_backlog",
		"Check-ins in a kiosk's outbox not yet acknowledged, from its last status report.", []string{"device", "venue"}, nil)
	oldestDesc = prometheus.NewDesc("anshim_central_device_oldest_unsynced_timestamp_seconds",
		"Kiosk wall time (Unix seconds) of the oldest check-in in its outbox, from its last status report; absent without a backlog.", []string{"device", "venue"}, nil)
	reportDesc = prometheus.NewDesc("anshim_central_device_report_timestamp_seconds",
		"When the central received a kiosk's last status report (Unix seconds).", []string{"device", "venue"}, nil)
	fleetBacklogDesc = prometheus.NewDesc("anshim_central_fleet_backlog",
		"Check-ins waiting in every reporting kiosk's outbox, from their last status reports.", nil, nil)
	fleetOldestDesc = prometheus.NewDesc("anshim_central_fleet_oldest_unsynced_timestamp_seconds",
		"Kiosk wall time (Unix seconds) of the oldest check-in waiting in any kiosk's outbox; absent when none waits.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{devicesDesc, storedDesc, quarantinedDesc, breaksDesc, backlogDesc, oldestDesc, reportDesc, fleetBacklogDesc, fleetOldestDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A store that cannot be read
// is an invalid metric, which fails the scrape with the error.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := c.s
	stats, err := s.Devices(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(devicesDesc, err)
		return
	}
	var records, quarantined, breaks uint64
	venues := make(map[string]string, len(stats))
	for _, d := range stats {
		records += d.Records
		quarantined += d.Quarantined
		breaks += d.Breaks
		venues[d.ID] = d.Venue
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(devicesDesc, float64(len(stats)))
	gauge(storedDesc, float64(records))
	gauge(quarantinedDesc, float64(quarantined))
	gauge(breaksDesc, float64(breaks))
	reports, err := s.fleetStored(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backlogDesc, err)
		return
	}
	decommissioned, err := s.decommissioned(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backlogDesc, err)
		return
	}
	var backlog int
	var oldest time.Time
	for device, r := range reports {
		venue, enrolled := venues[device]
		if !enrolled || decommissioned[device] {
			continue
		}
		backlog += r.Backlog
		gauge(backlogDesc, float64(r.Backlog), device, venue)
		gauge(reportDesc, float64(r.Received.Unix()), device, venue)
		if r.Backlog > 0 && !r.OldestUnsynced.IsZero() {
			gauge(oldestDesc, float64(r.OldestUnsynced.Unix()), device, venue)
			if oldest.IsZero() || r.OldestUnsynced.Before(oldest) {
				oldest = r.OldestUnsynced
			}
		}
	}
	gauge(fleetBacklogDesc, float64(backlog))
	if !oldest.IsZero() {
		gauge(fleetOldestDesc, float64(oldest.Unix()))
	}
}

// writeMetrics writes the Server's registry in the Prometheus text
// format (the /metrics handler's body).
func (s *Server) writeMetrics(ctx context.Context, w io.Writer) error {
	mfs, err := s.registry().Gather()
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}
