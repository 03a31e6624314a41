package central

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/internal/atomicfile"
	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/sync/wire"
)

// AlertsDir is the directory, in the data directory, of the fork evidence
// kiosks reported and the central verified: one LedgerAlert per file,
// named by the alert's key.
const AlertsDir = "ledger-alerts"

// Fork alert limits (docs/ledger.md).
const (
	// MaxAlerts bounds the alerts kept; more are refused (and logged).
	MaxAlerts = 1000
	// alertBurst and alertRefill shape each device's token bucket: at
	// most alertBurst reports at once, one more per alertRefill.
	alertBurst  = 5
	alertRefill = 10 * time.Minute
)

// receiptsRequestTimeout bounds the work of one request.
const receiptsRequestTimeout = 10 * time.Second

// receiptsLoop serves the ledger requests and alerts of kiosks and, after
// each new checkpoint, publishes the receipts of the batches it covers,
// until ctx is done. Receipts that could not be published (NATS away) are
// published later; those of checkpoints signed before the start were
// published then or can be asked for.
func (s *Server) receiptsLoop(ctx context.Context) error {
	if _, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       wire.BucketWitness,
		Description:  "Anshim: kiosks' latest ledger checkpoints (device id -> wire.Gossip JSON)",
		History:      1,
		MaxValueSize: wire.MaxGossipBytes,
		Storage:      jetstream.FileStorage,
		Replicas:     s.cfg.ReplicasOrDefault(),
	}); err != nil {
		return fmt.Errorf("KV bucket %s: %w", wire.BucketWitness, err)
	}
	limit := newAlertLimiter(s.now)
	handlers := map[string]nats.MsgHandler{
		wire.SubjectReceiptRequest:     func(m *nats.Msg) { s.reply(ctx, m, s.serveReceipt) },
		wire.SubjectConsistencyRequest: func(m *nats.Msg) { s.reply(ctx, m, s.serveConsistency) },
		wire.SubjectCheckpointRequest:  func(m *nats.Msg) { s.reply(ctx, m, s.serveCheckpoint) },
		wire.StatusWildcard:            s.fleetReport, // fleet.go
		wire.AlertsWildcard: func(m *nats.Msg) {
			s.reply(ctx, m, func(ctx context.Context, m *nats.Msg) wire.LedgerReply { return s.serveAlert(ctx, m, limit) })
		},
	}
	for subj, h := range handlers {
		sub, err := s.nc.Subscribe(subj, h)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", subj, err)
		}
		defer sub.Unsubscribe()
	}
	var published int64
	if cp, err := s.store.LatestCheckpoint(ctx); err == nil {
		published = cp.Size
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	t := time.NewTicker(ledgerPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cp, err := s.store.LatestCheckpoint(ctx)
		if err != nil || cp.Size <= published {
			continue
		}
		if !s.SignsLedger() { // the signer publishes them (several centrals)
			published = cp.Size
			continue
		}
		n, err := s.publishReceipts(ctx, published, cp)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("ledger receipts: publish failed, will retry", "from", n, "size", cp.Size, "err", err)
		}
		published = n
	}
}

// publishReceipts publishes the receipts, against cp, of the batch leaves
// from index from on. It returns the index up to which it published.
func (s *Server) publishReceipts(ctx context.Context, from int64, cp store.Checkpoint) (int64, error) {
	hr := ledgerstore.HashReader(ctx, s.store)
	for from < cp.Size {
		leaves, err := s.store.LedgerLeaves(ctx, from, min(cp.Size, from+MaxLeavesPage))
		if err != nil {
			return from, err
		}
		if len(leaves) == 0 {
			return from, fmt.Errorf("no leaves from %d", from)
		}
		for _, l := range leaves {
			pl, err := ledger.ParseLeaf(l)
			if b, ok := pl.(*ledger.Batch); err == nil && ok {
				p, err := tlog.ProveRecord(cp.Size, from, hr)
				if err != nil {
					return from, err
				}
				data, err := json.Marshal(ledger.Receipt{Index: from, Leaf: string(l), Proof: p, Checkpoint: string(cp.Note)})
				if err != nil {
					return from, err
				}
				if err := s.nc.Publish(wire.ReceiptSubject(b.Device), data); err != nil {
					return from, err
				}
				s.metrics.receiptsPublished.Add(1)
			}
			from++
		}
	}
	return from, nil
}

// reply answers a request with what serve returns.
func (s *Server) reply(ctx context.Context, m *nats.Msg, serve func(context.Context, *nats.Msg) wire.LedgerReply) {
	if m.Reply == "" || wire.IsStreamDelivery(m.Reply) {
		return // a notice without reply, or a rogue consumer's delivery (wire.IsStreamDelivery)
	}
	ctx, cancel := context.WithTimeout(ctx, receiptsRequestTimeout)
	defer cancel()
	data, err := json.Marshal(serve(ctx, m))
	if err == nil {
		err = m.Respond(data)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("ledger request: reply failed", "subject", m.Subject, "err", err)
	}
}

func (s *Server) serveReceipt(ctx context.Context, m *nats.Msg) wire.LedgerReply {
	var req wire.ReceiptRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return wire.LedgerReply{Error: "malformed request: " + err.Error()}
	}
	index, err := s.store.BatchLeaf(ctx, req.Device, req.Seq)
	if errors.Is(err, store.ErrNotFound) {
		// Not stored yet, or stored before the ledger: ask again later.
		return wire.LedgerReply{Error: err.Error(), Retry: true}
	}
	if err != nil {
		return wire.LedgerReply{Error: err.Error()}
	}
	rc, err := ledgerstore.Prove(ctx, s.store, index)
	if err != nil {
		return wire.LedgerReply{Error: err.Error(), Retry: errors.Is(err, ledger.ErrNotInCheckpoint)}
	}
	return wire.LedgerReply{Receipt: &rc}
}

func (s *Server) serveCheckpoint(ctx context.Context, _ *nats.Msg) wire.LedgerReply {
	cp, err := s.store.LatestCheckpoint(ctx)
	if err != nil {
		return wire.LedgerReply{Error: err.Error(), Retry: true}
	}
	return wire.LedgerReply{Checkpoint: string(cp.Note)}
}

func (s *Server) serveConsistency(ctx context.Context, m *nats.Msg) wire.LedgerReply {
	var req wire.ConsistencyRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return wire.LedgerReply{Error: "malformed request: " + err.Error()}
	}
	if req.Old < 1 || req.Old > req.New {
		return wire.LedgerReply{Error: fmt.Sprintf("want 1 ≤ old ≤ new, got old %d, new %d", req.Old, req.New)}
	}
	// A refusal (no Retry) tells a kiosk holding signed checkpoints of
	// these sizes that the log cannot prove them consistent: a fork. Only
	// sizes beyond the log are refused; a failure of the store is "retry".
	if err := s.checkSize(ctx, req.New); err != nil {
		return wire.LedgerReply{Error: err.Error(), Retry: !errors.Is(err, ErrInvalid)}
	}
	p, err := tlog.ProveTree(req.New, req.Old, ledgerstore.HashReader(ctx, s.store))
	if err != nil {
		return wire.LedgerReply{Error: err.Error(), Retry: true}
	}
	return wire.LedgerReply{Proof: &ledger.Proof{Old: req.Old, Size: req.New, Proof: p}}
}

// LedgerAlert is fork evidence a kiosk reported and the central verified,
// as kept in AlertsDir and listed by GET /v1/ledger/alerts.
type LedgerAlert struct {
	// Key names the alert: "fork-" and the hashes of both checkpoints, or
	// "receipt-" and the hash of the receipt. A second report of the same
	// key adds nothing.
	Key string `json:"key"`
	// Device is the kiosk that reported it first; Received when.
	Device   string    `json:"device"`
	Received time.Time `json:"received"`
	// Finding is what the central's own check found.
	Finding  string        `json:"finding"`
	Evidence wire.Evidence `json:"evidence"`
}

// alertLimiter is a token bucket per device.
type alertLimiter struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*tokens
}

type tokens struct {
	n       float64
	at      time.Time
	limited bool // the last report was refused (logged once)
}

func newAlertLimiter(now func() time.Time) *alertLimiter {
	return &alertLimiter{now: now, m: map[string]*tokens{}}
}

// allow takes a token of device's bucket. first is true for the first
// refusal after an allowed report.
func (l *alertLimiter) allow(device string) (ok, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	t := l.m[device]
	if t == nil {
		t = &tokens{n: alertBurst, at: now}
		l.m[device] = t
	}
	if d := now.Sub(t.at); d > 0 {
		t.n = min(alertBurst, t.n+float64(d)/float64(alertRefill))
	}
	t.at = now
	if t.n < 1 {
		first, t.limited = !t.limited, true
		return false, first
	}
	t.n--
	t.limited = false
	return true, false
}

// serveAlert verifies the fork evidence a kiosk reports and keeps it once
// (see checkAlert), logs and counts it. Only the device itself may publish
// on its alert subject; each device is rate-limited (alertBurst, then one
// per alertRefill) and a report is at most wire.MaxEvidenceBytes.
// Nothing is written for evidence that does not verify.
func (s *Server) serveAlert(ctx context.Context, m *nats.Msg, limit *alertLimiter) wire.LedgerReply {
	device, ok := wire.ParseAlertSubject(m.Subject)
	if !ok {
		return wire.LedgerReply{Error: fmt.Sprintf("subject %s is not an alert subject", m.Subject)}
	}
	if ok, first := limit.allow(device); !ok {
		if first {
			s.log.Warn("ledger fork alerts: device rate-limited", "device", device, "burst", alertBurst, "refill", alertRefill)
		}
		return wire.LedgerReply{Error: "too many alerts from this device: try again later", Retry: true}
	}
	if len(m.Data) > wire.MaxEvidenceBytes {
		s.log.Warn("ledger fork alert refused: too large", "device", device, "bytes", len(m.Data))
		return wire.LedgerReply{Error: fmt.Sprintf("evidence of %d bytes, at most %d", len(m.Data), wire.MaxEvidenceBytes)}
	}
	var ev wire.Evidence
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		s.log.Warn("ledger fork alert refused: malformed", "device", device, "err", err)
		return wire.LedgerReply{Error: "malformed evidence: " + err.Error()}
	}
	key, finding, err := s.checkAlert(ctx, device, ev)
	if errors.Is(err, errAlertRetry) {
		return wire.LedgerReply{Error: err.Error(), Retry: true}
	}
	if err != nil {
		s.log.Warn("ledger fork alert refused", "device", device, "kind", ev.Kind, "reason", ev.Reason, "err", err)
		return wire.LedgerReply{Error: "evidence refused: " + err.Error()}
	}
	dir := filepath.Join(s.cfg.DataOrDefault(), AlertsDir)
	file := filepath.Join(dir, key+".json")
	if _, err := os.Stat(file); err == nil {
		s.log.Info("ledger fork alert already kept", "device", device, "evidence_file", file)
		return wire.LedgerReply{OK: true}
	}
	if n, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(n) >= MaxAlerts {
		s.log.Error("ledger fork alert verified but not kept: too many alerts", "device", device, "max", MaxAlerts, "finding", finding)
		return wire.LedgerReply{Error: "the central keeps no more alerts", Retry: true}
	}
	data, err := json.MarshalIndent(LedgerAlert{Key: key, Device: device, Received: s.now().UTC(), Finding: finding, Evidence: ev}, "", "  ")
	if err == nil {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			err = atomicfile.Write(file, data, 0o644)
		}
	}
	s.metrics.ledgerForkAlerts.Add(1)
	s.log.Error("ledger fork reported by a kiosk", "device", device, "kind", ev.Kind, "reason", ev.Reason,
		"detected", ev.Detected, "finding", finding, "evidence_file", file, "evidence_kept", err == nil)
	if err != nil {
		return wire.LedgerReply{Error: "evidence not kept: " + err.Error(), Retry: true}
	}
	return wire.LedgerReply{OK: true}
}

// errAlertRetry: the evidence could not be checked now.
var errAlertRetry = errors.New("evidence not checked now")

// alertKey is the hex SHA-256 of the parts, cut to n digits.
func alertKey(n int, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:n]
}

// checkAlert verifies evidence a device reported, before anything is
// written, and returns its key and what the central found:
//
//   - a fork: both checkpoints signed by the ledger key, and the pair
//     contradicts the central's own log (one is of a size beyond it, or is
//     not its root at that size). Two checkpoints the log proves
//     consistent are refused: that is no fork.
//   - a receipt the device disowns: the receipt verifies (signature,
//     inclusion) and its leaf is a batch of that device. Whether the
//     device sent it is the device's word; the alert says so.
func (s *Server) checkAlert(ctx context.Context, device string, ev wire.Evidence) (key, finding string, err error) {
	if ev.Device != device {
		return "", "", fmt.Errorf("evidence of device %q reported by %q", ev.Device, device)
	}
	v, err := note.NewVerifier(s.keys.LedgerVerifierKey())
	if err != nil {
		return "", "", fmt.Errorf("%w: ledger verifier: %v", errAlertRetry, err)
	}
	switch ev.Kind {
	case wire.KindReceipt:
		if ev.Receipt == nil {
			return "", "", errors.New("no receipt")
		}
		_, leaf, err := ev.Receipt.Verify(v)
		if err != nil {
			return "", "", err
		}
		if b, ok := leaf.(*ledger.Batch); !ok || b.Device != device {
			return "", "", errors.New("the receipt is not of a batch of the reporting device")
		}
		return "receipt-" + alertKey(64, ev.Receipt.Leaf, ev.Receipt.Checkpoint),
			fmt.Sprintf("receipt of leaf %d verifies; the device says it did not send that batch", ev.Receipt.Index), nil
	case wire.KindFork, "":
	default:
		return "", "", fmt.Errorf("unknown kind %q", ev.Kind)
	}
	old, err := ledger.Open([]byte(ev.Old), v)
	if err != nil {
		return "", "", fmt.Errorf("old checkpoint: %w", err)
	}
	nw, err := ledger.Open([]byte(ev.New), v)
	if err != nil {
		return "", "", fmt.Errorf("new checkpoint: %w", err)
	}
	size, err := s.store.LedgerSize(ctx)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", errAlertRetry, err)
	}
	hr := ledgerstore.HashReader(ctx, s.store)
	var found []string
	for _, c := range []ledger.Checkpoint{old, nw} {
		if c.Size > size {
			found = append(found, fmt.Sprintf("a checkpoint of %d leaves is signed, the log has %d", c.Size, size))
			continue
		}
		root, err := tlog.TreeHash(c.Size, hr)
		if err != nil {
			return "", "", fmt.Errorf("%w: tree hash at %d: %v", errAlertRetry, c.Size, err)
		}
		if root != c.Hash {
			found = append(found, fmt.Sprintf("the signed root at %d leaves is not the log's (%s)", c.Size, root))
		}
	}
	if len(found) == 0 {
		return "", "", fmt.Errorf("both checkpoints (%d, %d leaves) are roots of the log: consistent, not a fork", old.Size, nw.Size)
	}
	return "fork-" + alertKey(32, ev.Old) + "-" + alertKey(32, ev.New), strings.Join(found, "; "), nil
}

// Alerts returns the fork alerts kept, oldest first.
func (s *Server) Alerts() ([]LedgerAlert, error) {
	files, err := filepath.Glob(filepath.Join(s.cfg.DataOrDefault(), AlertsDir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := []LedgerAlert{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("ledger alerts: %w", err)
		}
		var a LedgerAlert
		if err := json.Unmarshal(data, &a); err != nil {
			return nil, fmt.Errorf("ledger alert %s: %w", filepath.Base(f), err)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b LedgerAlert) int {
		if c := a.Received.Compare(b.Received); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, nil
}
