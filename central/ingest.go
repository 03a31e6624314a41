package central

import (
	"context"
	"fmt"
	"time"

	"github.com/anshim/anshim/sync/ingest"
)

// startIngest makes sure the check-in stream exists, then ingests kiosk
// batches from its durable consumer in the background until bg is done.
func (s *Server) startIngest(ctx, bg context.Context) error {
	cfg := ingest.Config{
		JS:       s.js,
		Store:    s.ingestMetrics.TimeStore(s.store), // batch latency histograms
		SealPub:  s.keys.SealingPublicKey(),
		SealPriv: s.keys.SealingPrivateKey(),
		DayKeys:  s.dayKeys,
		Seen:     s.seen.add,
		Log:      s.log.With("component", "ingest"),
		Now:      s.now,
		Metrics:  s.ingestMetrics,
		// Counted from when this central first sees a gap; well above the
		// consumer's AckWait (ingest.DefaultAckWait, 5 s) and the kiosks'
		// 30 s reconnect backoff plus their 10 s ack timeout: batches
		// redelivered after a central crash or resent after a failed
		// publish fill their gap.
		GapWait: 2 * time.Minute,
		Stream:  ingest.StreamConfig{Replicas: s.cfg.ReplicasOrDefault()},
		// 0: ingest's defaults.
		QuarantineMaxBytes:   s.cfg.QuarantineMaxBytes,
		QuarantineMaxEntries: s.cfg.QuarantineMaxEntries,
	}
	if err := ingest.EnsureStream(ctx, s.js, cfg.Stream); err != nil {
		return err
	}
	in, err := ingest.New(cfg)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	s.goBackground("ingest", func() error { return in.Run(bg) })
	return nil
}
