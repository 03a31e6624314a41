package ingest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/anshim/anshim/central/store"
)

// Quarantine reasons, as stored in store.Quarantine.Reason. The first
// eight are the checks of docs/sync.md; sequence-gap and chain-break are
// events recorded for a batch that was ingested all the same; day-destroyed
// records the records of a batch refused for their day, quota-exceeded a
// device that reached its quarantine quota.
const (
	ReasonMalformed     = "malformed"      // wire.Decode failed
	ReasonUnknownDevice = "unknown-device" // the batch's device is not enrolled
	ReasonWrongSubject  = "wrong-subject"  // subject, batch, device registry or records disagree on venue/device
	ReasonBadSignature  = "bad-signature"  // the head is not signed by the device's key
	ReasonBrokenChain   = "broken-chain"   // the records do not chain to the signed head
	ReasonConflict      = "seq-conflict"   // records differ from stored ones of the same (device, seq)
	ReasonCannotOpen    = "cannot-open"    // a sealed part does not open with the province key
	ReasonStoreError    = "store-error"    // the store failed on this message PoisonAfter times

	ReasonSequenceGap = "sequence-gap" // ingested and flagged: records before the batch are missing
	ReasonChainBreak  = "chain-break"  // ingested and flagged: Prev differs from the stored hash

	ReasonDayDestroyed  = "day-destroyed"  // records of a day destroyed or dropped from the store: not stored, hashes kept, batch acked
	ReasonQuotaExceeded = "quota-exceeded" // the device reached its quarantine quota: a summary entry, later entries not kept
)

// Reasons lists every quarantine reason, in the order Metrics reports them.
var reasons = [...]string{
	ReasonMalformed, ReasonUnknownDevice, ReasonWrongSubject, ReasonBadSignature,
	ReasonBrokenChain, ReasonConflict, ReasonCannotOpen, ReasonStoreError,
	ReasonSequenceGap, ReasonChainBreak, ReasonDayDestroyed, ReasonQuotaExceeded,
}

// Reasons returns every quarantine reason Handle and Run record.
func Reasons() []string { return append([]string(nil), reasons[:]...) }

// Metrics are the ingest's counters and latency histograms, safe for
// concurrent use; the zero value is ready. Read the counters with the
// atomic fields' Load or Quarantined; export everything with a Prometheus
// registry (Metrics is a prometheus.Collector: Register it with the
// server's own registry) or WritePrometheus.
type Metrics struct {
	// Batches counts messages handled to the end: stored, duplicate or
	// quarantined (and then acked).
	Batches atomic.Uint64
	// Stored counts check-ins new to the store.
	Stored atomic.Uint64
	// Duplicates counts check-ins skipped because they were stored already.
	Duplicates atomic.Uint64
	// Breaks counts batches ingested although they did not continue their
	// device's chain (sequence gaps and chain breaks).
	Breaks atomic.Uint64
	// Uncorrected counts check-ins stored with FlagUncorrected.
	Uncorrected atomic.Uint64
	// Retries counts messages left for redelivery after a store error.
	Retries atomic.Uint64
	// Expired counts check-ins refused because their day's key was
	// destroyed or the day dropped from the store (past retention): not
	// stored, quarantined as ReasonDayDestroyed.
	Expired atomic.Uint64
	// QuotaHits counts quarantine entries cut short by their device's
	// quarantine quota: kept without payload, replaced by the summary
	// entry, or not kept.
	QuotaHits atomic.Uint64
	// Held counts hold-backs of batches after a gap in their device's
	// sequence (Config.GapWait): each is a NAK and a redelivery.
	Held atomic.Uint64

	quarantined [len(reasons)]atomic.Uint64

	once sync.Once
	// batchSeconds: from the kiosk's publish (the JetStream timestamp
	// the records carry as Received) to the batch committed;
	// commitSeconds: the store's transaction of a batch. See TimeStore.
	batchSeconds, commitSeconds prometheus.Histogram
}

// Quarantined returns how many quarantine entries were made for reason
// (breaks included).
func (m *Metrics) Quarantined(reason string) uint64 {
	if i := reasonIndex(reason); i >= 0 {
		return m.quarantined[i].Load()
	}
	return 0
}

func (m *Metrics) quarantine(reason string) {
	if i := reasonIndex(reason); i >= 0 {
		m.quarantined[i].Add(1)
	}
}

func reasonIndex(reason string) int {
	for i, r := range reasons {
		if r == reason {
			return i
		}
	}
	return -1
}

// Histogram buckets, in seconds.
var (
	// batchBuckets: a batch waits behind others at the central for
	// milliseconds normally, minutes after a central restart or a fleet
	// reconnecting at once.
	batchBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900}
	// commitBuckets: one store transaction (bbolt fsync, PostgreSQL
	// commit).
	commitBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
)

func (m *Metrics) init() {
	m.once.Do(func() {
		m.batchSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "anshim_ingest_batch_seconds",
			Help:    "Seconds from a kiosk's publish of a batch (its JetStream timestamp) to the batch committed to the store.",
			Buckets: batchBuckets,
		})
		m.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "anshim_ingest_commit_seconds",
			Help:    "Seconds of the store transaction that commits one batch.",
			Buckets: commitBuckets,
		})
	})
}

// ObserveBatch records one batch committed: commit is the store's
// transaction, sinceSend the time since the kiosk published the batch.
func (m *Metrics) ObserveBatch(commit, sinceSend time.Duration) {
	m.init()
	m.commitSeconds.Observe(commit.Seconds())
	if sinceSend >= 0 {
		m.batchSeconds.Observe(sinceSend.Seconds())
	}
}

// TimeStore returns s measured into m: every Ingest (a batch's one write)
// is observed with ObserveBatch, its publish time being the Received of
// its first record. Both are measured on the real clock, as the NATS
// server stamps messages, not on an injected one. The Ingester's
// Config.Store takes it.
func (m *Metrics) TimeStore(s Store) Store { return &timedStore{Store: s, m: m} }

type timedStore struct {
	Store
	m *Metrics
}

func (t *timedStore) Ingest(ctx context.Context, b store.Batch) (int, error) {
	start := time.Now()
	n, err := t.Store.Ingest(ctx, b)
	if err == nil {
		end := time.Now()
		since := time.Duration(-1)
		if len(b.Records) > 0 && !b.Records[0].Received.IsZero() {
			since = end.Sub(b.Records[0].Received)
		}
		t.m.ObserveBatch(end.Sub(start), since)
	}
	return n, err
}

// counters are the exported counters: name, help, value.
func (m *Metrics) counters() []struct {
	name, help string
	v          *atomic.Uint64
} {
	return []struct {
		name, help string
		v          *atomic.Uint64
	}{
		{"anshim_ingest_batches_total", "Kiosk batches handled (stored, duplicate or quarantined).", &m.Batches},
		{"anshim_ingest_records_stored_total", "Check-ins new to the store.", &m.Stored},
		{"anshim_ingest_records_duplicate_total", "Check-ins skipped as already stored.", &m.Duplicates},
		{"anshim_ingest_breaks_total", "Batches ingested after a sequence gap or chain break.", &m.Breaks},
		{"anshim_ingest_records_uncorrected_total", "Check-ins whose unsynced clock could not be corrected.", &m.Uncorrected},
		{"anshim_ingest_retries_total", "Messages left for redelivery after a store error.", &m.Retries},
		{"anshim_ingest_records_expired_total", "Check-ins refused past retention (day key destroyed or day dropped): not stored, quarantined as day-destroyed.", &m.Expired},
		{"anshim_ingest_quarantine_quota_total", "Quarantine entries cut short by their device's quarantine quota (payload not kept, or entry not kept).", &m.QuotaHits},
		{"anshim_ingest_held_total", "Hold-backs of batches after a sequence gap while the records before them arrive.", &m.Held},
	}
}

var quarantinedDesc = prometheus.NewDesc("anshim_ingest_quarantined_total", "Quarantine entries by reason.", []string{"reason"}, nil)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.init()
	for _, c := range m.counters() {
		ch <- prometheus.NewDesc(c.name, c.help, nil, nil)
	}
	ch <- quarantinedDesc
	m.batchSeconds.Describe(ch)
	m.commitSeconds.Describe(ch)
}

// Collect implements prometheus.Collector: the counters, one quarantine
// series per reason (zeros included, so that a rate has a start), and the
// histograms.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.init()
	for _, c := range m.counters() {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(c.name, c.help, nil, nil), prometheus.CounterValue, float64(c.v.Load()))
	}
	for i, r := range reasons {
		ch <- prometheus.MustNewConstMetric(quarantinedDesc, prometheus.CounterValue, float64(m.quarantined[i].Load()), r)
	}
	m.batchSeconds.Collect(ch)
	m.commitSeconds.Collect(ch)
}

// WritePrometheus writes the metrics in the Prometheus text exposition
// format, through a registry of their own.
func (m *Metrics) WritePrometheus(w io.Writer) error {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		return fmt.Errorf("ingest metrics: %w", err)
	}
	return writeText(w, reg)
}

// writeText writes what g gathers in the Prometheus text exposition
// format.
func writeText(w io.Writer, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return nil
}
