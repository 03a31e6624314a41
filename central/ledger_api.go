package central

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/ledger"
)

// MaxLeavesPage bounds the leaves of one GET /v1/ledger/leaves.
const MaxLeavesPage = 1000

// ledgerPoll is how often the checkpoint loop looks at the clock.
var ledgerPoll = time.Second

// ledgerRoutes adds the ledger's public, read-only routes (no personal
// data, no token: anyone may audit):
//
//	GET /v1/ledger/checkpoint                      → the latest signed checkpoint (text/plain note)
//	GET /v1/ledger/checkpoints                     → [store.Checkpoint], the history
//	GET /v1/ledger/leaves?start=A&end=B            → ledger.LeavesPage (at most 1000)
//	GET /v1/ledger/proof/inclusion?index=N&size=S  → ledger.Proof (tlog.RecordProof)
//	GET /v1/ledger/proof/consistency?old=A&new=B   → ledger.Proof (tlog.TreeProof; 1 ≤ A ≤ B)
//	GET /v1/ledger/receipt?device=ID&seq=N         → ledger.Receipt of the batch that stored the record
//	GET /v1/ledger/alerts                          → [LedgerAlert], fork evidence kiosks reported and the central verified
func (s *Server) ledgerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/ledger/checkpoint", s.handleCheckpoint)
	mux.Handle("GET /v1/ledger/checkpoints", s.api(func(r *http.Request) (any, int, error) {
		return nonNilSlice(s.store.Checkpoints(r.Context()))
	}))
	mux.Handle("GET /v1/ledger/leaves", s.api(s.handleLeaves))
	mux.Handle("GET /v1/ledger/proof/inclusion", s.api(s.handleInclusion))
	mux.Handle("GET /v1/ledger/proof/consistency", s.api(s.handleConsistency))
	mux.Handle("GET /v1/ledger/receipt", s.api(s.handleReceipt))
	mux.Handle("GET /v1/ledger/alerts", s.api(func(*http.Request) (any, int, error) {
		a, err := s.Alerts()
		return a, 0, err
	}))
}

func nonNilSlice(list []store.Checkpoint, err error) (any, int, error) {
	if list == nil {
		list = []store.Checkpoint{}
	}
	return list, 0, err
}

// CheckpointLedger signs a checkpoint when the ledger grew since the last
// one (see ledgerstore.Checkpointer).
func (s *Server) CheckpointLedger(ctx context.Context, now time.Time) (store.Checkpoint, bool, error) {
	signer, err := s.keys.LedgerSigner()
	if err != nil {
		return store.Checkpoint{}, false, err
	}
	c := &ledgerstore.Checkpointer{Store: s.store, Signer: signer, Now: func() time.Time { return now }}
	return c.Checkpoint(ctx)
}

// ledgerLoop signs checkpoints every ledger.Every by the server's clock
// while leaves arrive, until ctx is done.
func (s *Server) ledgerLoop(ctx context.Context) {
	t := time.NewTicker(ledgerPoll)
	defer t.Stop()
	var next time.Time
	for {
		if now := s.now(); !now.Before(next) || now.Add(ledger.Every).Before(next) {
			next = now.Add(ledger.Every)
			if _, _, err := s.CheckpointLedger(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Error("ledger checkpoint failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request) {
	s.metrics.httpRequests.Add(1)
	c, err := s.store.LatestCheckpoint(r.Context())
	if err != nil {
		code := statusOf(err)
		if code >= 500 {
			s.metrics.httpErrors.Add(1)
			s.log.Error("HTTP request failed", "path", r.URL.Path, "err", err)
		}
		http.Error(w, fmt.Sprintf(`{"error": %q}`, "no checkpoint: "+err.Error()), code)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(c.Note)
}

// intParam returns the query parameter name as a non-negative integer.
func intParam(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s=%q: want a non-negative integer", ErrInvalid, name, v)
	}
	return n, nil
}

func (s *Server) handleLeaves(r *http.Request) (any, int, error) {
	start, err := intParam(r, "start")
	if err != nil {
		return nil, 0, err
	}
	end, err := intParam(r, "end")
	if err != nil {
		return nil, 0, err
	}
	size, err := s.store.LedgerSize(r.Context())
	if err != nil {
		return nil, 0, err
	}
	end = min(end, size, start+MaxLeavesPage)
	if start > end {
		return nil, 0, fmt.Errorf("%w: start %d beyond the ledger's %d leaves", ErrInvalid, start, size)
	}
	leaves, err := s.store.LedgerLeaves(r.Context(), start, end)
	if err != nil {
		return nil, 0, err
	}
	p := ledger.LeavesPage{Start: start, Leaves: make([]string, len(leaves))}
	for i, l := range leaves {
		p.Leaves[i] = string(l)
	}
	return p, 0, nil
}

// checkSize refuses a tree size beyond the ledger's.
func (s *Server) checkSize(ctx context.Context, size int64) error {
	n, err := s.store.LedgerSize(ctx)
	if err != nil {
		return err
	}
	if size > n {
		return fmt.Errorf("%w: size %d beyond the ledger's %d leaves", ErrInvalid, size, n)
	}
	return nil
}

func (s *Server) handleInclusion(r *http.Request) (any, int, error) {
	index, err := intParam(r, "index")
	if err != nil {
		return nil, 0, err
	}
	size, err := intParam(r, "size")
	if err != nil {
		return nil, 0, err
	}
	if index >= size {
		return nil, 0, fmt.Errorf("%w: index %d not below size %d", ErrInvalid, index, size)
	}
	if err := s.checkSize(r.Context(), size); err != nil {
		return nil, 0, err
	}
	p, err := tlog.ProveRecord(size, index, ledgerstore.HashReader(r.Context(), s.store))
	if err != nil {
		return nil, 0, err
	}
	return ledger.Proof{Index: index, Size: size, Proof: p}, 0, nil
}

func (s *Server) handleConsistency(r *http.Request) (any, int, error) {
	old, err := intParam(r, "old")
	if err != nil {
		return nil, 0, err
	}
	n, err := intParam(r, "new")
	if err != nil {
		return nil, 0, err
	}
	if old < 1 || old > n {
		return nil, 0, fmt.Errorf("%w: want 1 ≤ old ≤ new, got old %d, new %d", ErrInvalid, old, n)
	}
	if err := s.checkSize(r.Context(), n); err != nil {
		return nil, 0, err
	}
	p, err := tlog.ProveTree(n, old, ledgerstore.HashReader(r.Context(), s.store))
	if err != nil {
		return nil, 0, err
	}
	return ledger.Proof{Old: old, Size: n, Proof: p}, 0, nil
}

func (s *Server) handleReceipt(r *http.Request) (any, int, error) {
	device := r.URL.Query().Get("device")
	seq, err := intParam(r, "seq")
	if err != nil {
		return nil, 0, err
	}
	index, err := s.store.BatchLeaf(r.Context(), device, uint64(seq))
	if err != nil {
		return nil, 0, err
	}
	rc, err := ledgerstore.Prove(r.Context(), s.store, index)
	if errors.Is(err, ledger.ErrNotInCheckpoint) {
		return nil, 0, fmt.Errorf("%w: %v; try again in %v", store.ErrNotFound, err, ledger.Every)
	}
	if err != nil {
		return nil, 0, err
	}
	return rc, 0, nil
}
