package central

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the JetStream stream of kiosk batches.
const StreamName = "ANSHIM_CHECKINS"

// startIngest makes sure the check-in stream exists and starts ingesting
// kiosk batches until bg is done.
//
// TODO(sync/ingest): replace with ingest.EnsureStream and ingest.Run once
// the package lands.
func (s *Server) startIngest(ctx, bg context.Context) error {
	_, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:     StreamName,
		Subjects: []string{SubjectPrefix + ">"},
		Storage:  jetstream.FileStorage,
		Replicas: s.cfg.ReplicasOrDefault(),
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", StreamName, err)
	}
	return nil
}
