package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/internal/atomicfile"
	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/sync/uplink"
)

// The ledger's subjects and messages are the sync protocol's (docs/sync.md,
// "Ledger receipts and witnesses"), defined once in sync/uplink, the
// kiosk's side.
const (
	ReceiptsPrefix           = uplink.ReceiptsPrefix
	SubjectLedgerReceipt     = uplink.SubjectReceiptRequest
	SubjectLedgerConsistency = uplink.SubjectConsistencyRequest
	AlertsPrefix             = uplink.AlertsPrefix
)

// ReceiptSubject returns the subject of a device's receipts.
func ReceiptSubject(device string) string { return uplink.ReceiptSubject(device) }

// AlertSubject returns the subject a device reports ledger forks on.
func AlertSubject(device string) string { return uplink.AlertSubject(device) }

type (
	ledgerReply  = uplink.LedgerReply
	forkEvidence = uplink.Evidence
)

// AlertsDir is the directory, in the data directory, of the fork evidence
// kiosks reported.
const AlertsDir = "ledger-alerts"

// receiptsRequestTimeout bounds the work of one request.
const receiptsRequestTimeout = 10 * time.Second

// receiptsLoop serves the ledger requests and alerts of kiosks and, after
// each new checkpoint, publishes the receipts of the batches it covers,
// until ctx is done. Receipts that could not be published (NATS away) are
// published later; those of checkpoints signed before the start were
// published then or can be asked for.
func (s *Server) receiptsLoop(ctx context.Context) error {
	handlers := map[string]nats.MsgHandler{
		SubjectLedgerReceipt:     func(m *nats.Msg) { s.reply(ctx, m, s.serveReceipt) },
		SubjectLedgerConsistency: func(m *nats.Msg) { s.reply(ctx, m, s.serveConsistency) },
		AlertsPrefix + "*":       func(m *nats.Msg) { s.reply(ctx, m, s.serveAlert) },
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
	hr := ledger.HashReader(ctx, s.store)
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
				if err := s.nc.Publish(ReceiptSubject(b.Device), data); err != nil {
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
func (s *Server) reply(ctx context.Context, m *nats.Msg, serve func(context.Context, *nats.Msg) ledgerReply) {
	if m.Reply == "" {
		return
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

func (s *Server) serveReceipt(ctx context.Context, m *nats.Msg) ledgerReply {
	var req uplink.ReceiptRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return ledgerReply{Error: "malformed request: " + err.Error()}
	}
	index, err := s.store.BatchLeaf(ctx, req.Device, req.Seq)
	if errors.Is(err, store.ErrNotFound) {
		// Not stored yet, or stored before the ledger: ask again later.
		return ledgerReply{Error: err.Error(), Retry: true}
	}
	if err != nil {
		return ledgerReply{Error: err.Error()}
	}
	rc, err := ledger.Prove(ctx, s.store, index)
	if err != nil {
		return ledgerReply{Error: err.Error(), Retry: errors.Is(err, ledger.ErrNotInCheckpoint)}
	}
	return ledgerReply{Receipt: &rc}
}

func (s *Server) serveConsistency(ctx context.Context, m *nats.Msg) ledgerReply {
	var req uplink.ConsistencyRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return ledgerReply{Error: "malformed request: " + err.Error()}
	}
	if req.Old < 1 || req.Old > req.New {
		return ledgerReply{Error: fmt.Sprintf("want 1 ≤ old ≤ new, got old %d, new %d", req.Old, req.New)}
	}
	if err := s.checkSize(ctx, req.New); err != nil {
		return ledgerReply{Error: err.Error()}
	}
	p, err := tlog.ProveTree(req.New, req.Old, ledger.HashReader(ctx, s.store))
	if err != nil {
		return ledgerReply{Error: err.Error()}
	}
	return ledgerReply{Proof: &ledger.Proof{Old: req.Old, Size: req.New, Proof: p}}
}

// serveAlert logs, counts and keeps the fork evidence a kiosk reports.
// Only the device itself may publish on its alert subject.
func (s *Server) serveAlert(_ context.Context, m *nats.Msg) ledgerReply {
	device := strings.TrimPrefix(m.Subject, AlertsPrefix)
	var ev forkEvidence
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		s.log.Error("ledger fork alert from a kiosk: malformed evidence", "device", device, "err", err)
		return ledgerReply{Error: "malformed evidence: " + err.Error()}
	}
	s.metrics.ledgerForkAlerts.Add(1)
	proven, oldC, newC := s.checkEvidence(ev)
	dir := filepath.Join(s.cfg.DataOrDefault(), AlertsDir)
	file := filepath.Join(dir, fmt.Sprintf("%s-%s.json", device, ev.Detected.UTC().Format("20060102T150405.000000000Z")))
	err := os.MkdirAll(dir, 0o700)
	if err == nil {
		err = atomicfile.Write(file, m.Data, 0o600)
	}
	s.log.Error("ledger fork reported by a kiosk", "device", device, "reason", ev.Reason,
		"detected", ev.Detected, "old_size", oldC.Size, "new_size", newC.Size,
		"signatures_valid", proven, "evidence_file", file, "evidence_kept", err == nil)
	if err != nil {
		return ledgerReply{Error: "evidence not kept: " + err.Error()}
	}
	return ledgerReply{OK: true}
}

// checkEvidence tells whether both checkpoints of ev carry the ledger
// key's signature.
func (s *Server) checkEvidence(ev forkEvidence) (bool, ledger.Checkpoint, ledger.Checkpoint) {
	v, err := note.NewVerifier(s.keys.LedgerVerifierKey())
	if err != nil {
		return false, ledger.Checkpoint{}, ledger.Checkpoint{}
	}
	o, err1 := ledger.Open([]byte(ev.Old), v)
	n, err2 := ledger.Open([]byte(ev.New), v)
	return err1 == nil && err2 == nil, o, n
}
