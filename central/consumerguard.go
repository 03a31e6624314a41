package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anshim/anshim/sync/wire"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The consumer guard (docs/sync.md, "Permissions"). A kiosk's NATS user
// may create consumers on the KV streams it watches, because a KeyValue
// watch is an ordered push consumer that the client creates itself. NATS
// subject permissions cannot see the request body, so a stolen kiosk
// credential could create a durable consumer (a resource that lives
// forever) or a push consumer whose deliver subject is a foreign subject
// (another device's inbox, a subject the central serves, a stream's
// subject): JetStream then publishes the bucket's messages there on its
// behalf (nats-io/nats-server#8274). The guard watches the JetStream API
// audit advisories of the account and deletes at once every consumer of a
// guarded stream that a kiosk's watch would not make; a sweep of the
// streams at start and every guardSweepEvery catches what was created
// while the central was away.
//
// The guard acts after the server has created the consumer: what the
// consumer delivers before the delete arrives (the race window, a few
// milliseconds) is delivered. See TestConsumerGuard_ForeignDeliverSubject.

const (
	// guardSweepEvery is how often the guard lists the consumers of the
	// guarded streams.
	guardSweepEvery = time.Minute
	// maxWatchInactive bounds a watch consumer's inactive threshold: the
	// server deletes an ordered consumer 5 s after its kiosk went away
	// (nats.go sets none; the server's default for ephemerals is 5 s).
	maxWatchInactive = time.Minute
	// centralInbox is the inbox prefix of the central's own connection
	// (nats.go's default): its watchers (KeyValue.Keys) deliver there.
	centralInbox = "_INBOX."
	// auditSubject is where the server publishes an audit advisory of
	// every JetStream API call of the account, with the caller's identity,
	// the request and the response.
	auditSubject = "$JS.EVENT.ADVISORY.API"
	// consumerCreatePrefix starts the API subjects that create or update
	// a consumer: CONSUMER.CREATE.<stream>[.<name>[.<filter>]] and
	// CONSUMER.DURABLE.CREATE.<stream>.<durable>.
	consumerCreatePrefix  = "$JS.API.CONSUMER.CREATE."
	durableCreatePrefix   = "$JS.API.CONSUMER.DURABLE.CREATE."
	guardDeleteTimeout    = 5 * time.Second
	guardSweepListTimeout = 30 * time.Second
)

// GuardedStreams returns the streams whose consumers the guard checks:
// the KV streams of the down-sync buckets and of the witness gossip
// bucket, the only streams kiosks may create consumers on. The check-in
// stream and anything else of the central are not guarded.
func GuardedStreams() []string {
	buckets := wire.DownSyncBuckets()
	out := make([]string, 0, len(buckets)+1)
	for _, b := range buckets {
		out = append(out, "KV_"+b)
	}
	return append(out, "KV_"+wire.BucketWitness)
}

// isGuarded reports whether stream is one of [GuardedStreams].
func isGuarded(stream string) bool {
	for _, s := range GuardedStreams() {
		if s == stream {
			return true
		}
	}
	return false
}

// watchShape checks a consumer's configuration against what nats.go's
// KeyValue watch makes (an ordered push consumer: no durable name, a
// deliver subject below the client's inbox prefix, no acks, no queue
// group, a short inactive threshold). It returns the device whose inbox
// the consumer delivers to ("" for the central's inbox, central true),
// or why the shape is wrong.
func watchShape(cfg *jetstream.ConsumerConfig) (device string, central bool, reason string) {
	switch {
	case cfg.Durable != "":
		return "", false, "durable consumer"
	case cfg.DeliverSubject == "":
		return "", false, "pull consumer"
	case cfg.AckPolicy != jetstream.AckNonePolicy:
		return "", false, "acknowledged consumer (ack policy " + cfg.AckPolicy.String() + ")"
	case cfg.DeliverGroup != "":
		return "", false, "queue group"
	case cfg.InactiveThreshold <= 0 || cfg.InactiveThreshold > maxWatchInactive:
		return "", false, fmt.Sprintf("inactive threshold %v (want at most %v)", cfg.InactiveThreshold, maxWatchInactive)
	}
	d := cfg.DeliverSubject
	if strings.HasPrefix(d, centralInbox) {
		return "", true, ""
	}
	rest, ok := strings.CutPrefix(d, "_INBOX_")
	dev, _, dot := strings.Cut(rest, ".")
	if !ok || !dot || dev == "" {
		return "", false, "deliver subject outside the inboxes"
	}
	return dev, false, ""
}

// guardVerdict is what the guard decides about one consumer.
type guardVerdict struct {
	// Reason is why the consumer goes; "" keeps it.
	Reason string
	// InboxDevice is the device whose inbox the deliver subject names.
	InboxDevice string
}

// judgeConsumer decides about a consumer of a guarded stream. creator is
// the nkey of the user who created it ("" when unknown: a sweep);
// centralKey is the central's own nkey; nkeyOf returns an enrolled
// device's nkey. The central's consumers are kept; a device's consumer
// must have the shape of a watch and deliver into its own inbox; a
// consumer of unknown origin must deliver into an enrolled device's
// inbox or the central's.
func judgeConsumer(cfg *jetstream.ConsumerConfig, creator, centralKey string, nkeyOf func(device string) (string, bool)) guardVerdict {
	if creator != "" && creator == centralKey {
		return guardVerdict{}
	}
	dev, central, reason := watchShape(cfg)
	v := guardVerdict{Reason: reason, InboxDevice: dev}
	if reason != "" {
		return v
	}
	if central {
		if creator != "" {
			v.Reason = "deliver subject in the central's inbox"
		}
		return v
	}
	key, enrolled := nkeyOf(dev)
	switch {
	case !enrolled:
		v.Reason = "deliver subject in the inbox of a device not enrolled"
	case creator != "" && key != creator:
		v.Reason = "deliver subject in another device's inbox"
	}
	return v
}

// consumerCreateAudit is the part of an API audit advisory the guard
// reads.
type consumerCreateAudit struct {
	Client *struct {
		User string `json:"user"`
		Name string `json:"name"`
	} `json:"client"`
	Subject  string `json:"subject"`
	Response string `json:"response"`
}

// consumerCreateResponse is the API's answer to a consumer create: an
// error or the consumer's info.
type consumerCreateResponse struct {
	Error *struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
	Stream string                    `json:"stream_name"`
	Name   string                    `json:"name"`
	Config *jetstream.ConsumerConfig `json:"config"`
}

// startConsumerGuard subscribes to the API audit advisories and sweeps
// the guarded streams at once and then every guardSweepEvery until bg is
// done. The subscription ends with the central's connection.
func (s *Server) startConsumerGuard(ctx, bg context.Context) error {
	central, err := s.nkey.PublicKey()
	if err != nil {
		return fmt.Errorf("consumer guard: %w", err)
	}
	if _, err := s.nc.Subscribe(auditSubject, func(m *nats.Msg) { s.guardAudit(bg, central, m.Data) }); err != nil {
		return fmt.Errorf("consumer guard: subscribe %s: %w", auditSubject, err)
	}
	fctx, cancel := context.WithTimeout(ctx, guardDeleteTimeout) // FlushWithContext wants a deadline
	defer cancel()
	if err := s.nc.FlushWithContext(fctx); err != nil {
		return fmt.Errorf("consumer guard: %w", err)
	}
	s.goBackground("consumer guard sweep", func() error {
		s.periodic(bg, guardSweepEvery, func(ctx context.Context, _ time.Time) error {
			_, err := s.sweepConsumers(ctx)
			return err
		})
		return nil
	})
	return nil
}

// deviceNKey returns an enrolled device's NATS nkey.
func (s *Server) deviceNKey(device string) (string, bool) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	u, ok := s.users[device]
	return u.NKey, ok
}

// guardAudit checks the consumer an audit advisory reports created or
// updated on a guarded stream, and removes it if it is not a watch of the
// device that made it.
func (s *Server) guardAudit(ctx context.Context, central string, data []byte) {
	var a consumerCreateAudit
	if err := json.Unmarshal(data, &a); err != nil {
		s.log.Warn("consumer guard: unreadable API audit advisory", "err", err)
		return
	}
	if !strings.HasPrefix(a.Subject, consumerCreatePrefix) && !strings.HasPrefix(a.Subject, durableCreatePrefix) {
		return
	}
	var r consumerCreateResponse
	if err := json.Unmarshal([]byte(a.Response), &r); err != nil {
		s.log.Warn("consumer guard: unreadable consumer create response", "subject", a.Subject, "err", err)
		return
	}
	if r.Error != nil || r.Config == nil || !isGuarded(r.Stream) {
		return
	}
	creator := ""
	if a.Client != nil {
		creator = a.Client.User
	}
	if creator == "" {
		// Not an nkey user (nothing of Anshim's): judge it by its shape.
		creator = "(unknown)"
	}
	if creator != central && creator != "(unknown)" {
		s.knowNKey(ctx, creator) // a kiosk another central (same store) just enrolled
	}
	v := judgeConsumer(r.Config, creator, central, s.deviceNKey)
	if v.Reason == "" {
		return
	}
	s.removeConsumer(ctx, r.Stream, r.Name, r.Config, v, s.deviceOfNKey(creator))
}

// deviceOfNKey returns the enrolled device with the nkey, or the nkey.
func (s *Server) deviceOfNKey(nkey string) string {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	for id, u := range s.users {
		if u.NKey == nkey {
			return id
		}
	}
	return nkey
}

// removeConsumer deletes a consumer the guard refused, logs it and counts
// it. creator is the device that made it ("" when unknown).
func (s *Server) removeConsumer(ctx context.Context, stream, name string, cfg *jetstream.ConsumerConfig, v guardVerdict, creator string) {
	dctx, cancel := context.WithTimeout(ctx, guardDeleteTimeout)
	defer cancel()
	err := s.js.DeleteConsumer(dctx, stream, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return // already gone: removed by another path, or the kiosk left
	}
	args := []any{"stream", stream, "consumer", name, "reason", v.Reason,
		"deliver_subject", cfg.DeliverSubject, "durable", cfg.Durable, "filter", cfg.FilterSubject}
	if creator != "" {
		args = append(args, "created_by", creator)
	}
	if v.InboxDevice != "" {
		args = append(args, "inbox_device", v.InboxDevice)
	}
	if err != nil {
		s.log.Error("consumer guard: could not remove a consumer a kiosk watch would not make", append(args, "err", err)...)
		return
	}
	s.metrics.kvConsumersRemoved.Add(1)
	s.log.Warn("consumer guard: removed a consumer a kiosk watch would not make", args...)
}

// sweepConsumers lists the consumers of the guarded streams and removes
// those that are not watches delivering into an enrolled device's inbox
// or the central's. It returns how many it removed.
func (s *Server) sweepConsumers(ctx context.Context) (int, error) {
	central, err := s.nkey.PublicKey()
	if err != nil {
		return 0, fmt.Errorf("consumer sweep: %w", err)
	}
	removed := 0
	for _, name := range GuardedStreams() {
		lctx, cancel := context.WithTimeout(ctx, guardSweepListTimeout)
		st, err := s.js.Stream(lctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			cancel()
			continue
		}
		if err != nil {
			cancel()
			return removed, fmt.Errorf("consumer sweep: stream %s: %w", name, err)
		}
		var bad []*jetstream.ConsumerInfo
		list := st.ListConsumers(lctx)
		for ci := range list.Info() {
			if v := judgeConsumer(&ci.Config, "", central, s.deviceNKey); v.Reason != "" {
				bad = append(bad, ci)
			}
		}
		err = list.Err()
		cancel()
		if err != nil {
			return removed, fmt.Errorf("consumer sweep: list consumers of %s: %w", name, err)
		}
		for _, ci := range bad {
			v := judgeConsumer(&ci.Config, "", central, s.deviceNKey)
			s.removeConsumer(ctx, name, ci.Name, &ci.Config, v, "")
			removed++
		}
	}
	return removed, nil
}
