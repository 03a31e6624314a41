package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/anshim/anshim/central/store"
)

// adminAuditLimit is how many events the audit page shows.
const adminAuditLimit = 200

// adminAuditPage is the data of admin_audit.html.
type adminAuditPage struct {
	Kind   string
	Kinds  []string
	Events []auditRow // latest first
	Total  int
	Size   int64 // the ledger's, for the inclusion proofs' links
}

// auditRow is an audit event with the index of its ledger leaf.
type auditRow struct {
	store.AuditEvent
	Leaf    int64
	HasLeaf bool // false for an event stored before the ledger
}

// adminAudit shows the audit trail, latest first, optionally of one kind
// (reveals, days destroyed, registry changes, failed sign-ins, …): who,
// when, what, the reason given and the index of its ledger leaf, linked
// to its inclusion proof in the ledger of the moment.
func (wb *Web) adminAudit(w http.ResponseWriter, r *http.Request) {
	all, err := wb.st.Audit(r.Context())
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	kind := strings.TrimSpace(r.URL.Query().Get("kind"))
	data := adminAuditPage{Kind: kind}
	seen := map[string]bool{}
	for i := len(all) - 1; i >= 0; i-- {
		e := all[i]
		if !seen[e.Kind] {
			seen[e.Kind] = true
			data.Kinds = append(data.Kinds, e.Kind)
		}
		if kind != "" && e.Kind != kind {
			continue
		}
		data.Total++
		if len(data.Events) < adminAuditLimit {
			data.Events = append(data.Events, auditRow{AuditEvent: e})
		}
	}
	slices.Sort(data.Kinds)
	if wb.opts.Admin != nil {
		events := make([]store.AuditEvent, len(data.Events))
		for i, e := range data.Events {
			events[i] = e.AuditEvent
		}
		leaves, size, err := wb.opts.Admin.AuditLeaves(r.Context(), events)
		if err != nil {
			wb.serverError(w, r, err)
			return
		}
		data.Size = size
		for i := range data.Events {
			data.Events[i].Leaf, data.Events[i].HasLeaf = leaves[data.Events[i].ID]
		}
	}
	wb.render(w, r, http.StatusOK, "admin_audit", data)
}
