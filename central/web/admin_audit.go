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
	Events []store.AuditEvent // latest first
	Total  int
}

// adminAudit shows the audit trail, latest first, optionally of one kind
// (reveals, days destroyed, registry changes, failed sign-ins, …): who,
// when, what, and the reason given.
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
			data.Events = append(data.Events, e)
		}
	}
	slices.Sort(data.Kinds)
	wb.render(w, r, http.StatusOK, "admin_audit", data)
}
