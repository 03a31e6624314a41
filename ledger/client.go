package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Client reads a central's ledger over its HTTP API (GET /v1/ledger/…).
// It implements Source.
type Client struct {
	// URL is the central's base URL, such as http://127.0.0.1:8440.
	URL string
	// HTTP is the client. Default http.DefaultClient.
	HTTP *http.Client
}

var _ Source = (*Client)(nil)

func (c *Client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := strings.TrimRight(c.URL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return nil, fmt.Errorf("GET %s: central: %s (HTTP %d)", path, e.Error, resp.StatusCode)
	}
	return data, nil
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	data, err := c.get(ctx, path, q)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

func itoa(n int64) string { return fmt.Sprint(n) }

// Checkpoint implements Source: GET /v1/ledger/checkpoint.
func (c *Client) Checkpoint(ctx context.Context) ([]byte, error) {
	return c.get(ctx, "/v1/ledger/checkpoint", nil)
}

// LeavesPage is the answer of GET /v1/ledger/leaves.
type LeavesPage struct {
	Start  int64    `json:"start"`
	Leaves []string `json:"leaves"`
}

// Leaves implements Source: GET /v1/ledger/leaves?start=&end=.
func (c *Client) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	var p LeavesPage
	if err := c.getJSON(ctx, "/v1/ledger/leaves", url.Values{"start": {itoa(start)}, "end": {itoa(end)}}, &p); err != nil {
		return nil, err
	}
	if p.Start != start {
		return nil, fmt.Errorf("GET /v1/ledger/leaves: asked from %d, got from %d", start, p.Start)
	}
	out := make([][]byte, len(p.Leaves))
	for i, l := range p.Leaves {
		out[i] = []byte(l)
	}
	return out, nil
}

// Proof is the answer of the proof routes.
type Proof struct {
	Index int64       `json:"index,omitempty"` // inclusion: the leaf
	Old   int64       `json:"old,omitempty"`   // consistency: the older size
	Size  int64       `json:"size"`
	Proof []tlog.Hash `json:"proof"`
}

// Consistency implements Source: GET /v1/ledger/proof/consistency?old=&new=.
func (c *Client) Consistency(ctx context.Context, old, new int64) (tlog.TreeProof, error) {
	var p Proof
	err := c.getJSON(ctx, "/v1/ledger/proof/consistency", url.Values{"old": {itoa(old)}, "new": {itoa(new)}}, &p)
	return p.Proof, err
}

// Inclusion asks GET /v1/ledger/proof/inclusion?index=&size=.
func (c *Client) Inclusion(ctx context.Context, index, size int64) (tlog.RecordProof, error) {
	var p Proof
	err := c.getJSON(ctx, "/v1/ledger/proof/inclusion", url.Values{"index": {itoa(index)}, "size": {itoa(size)}}, &p)
	return p.Proof, err
}

// Receipt asks GET /v1/ledger/receipt?device=&seq=: the receipt of the
// batch that stored the device's record seq.
func (c *Client) Receipt(ctx context.Context, device string, seq uint64) (Receipt, error) {
	var r Receipt
	err := c.getJSON(ctx, "/v1/ledger/receipt", url.Values{"device": {device}, "seq": {fmt.Sprint(seq)}}, &r)
	return r, err
}
