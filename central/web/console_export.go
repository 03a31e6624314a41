package web

import (
	"fmt"
	"net/http"

	"github.com/anshim/anshim/central/trace"
)

// consoleCSV sends a trace's contacts as CSV (trace.WriteCSV: every cell
// neutralised against formula injection), without identities.
func (wb *Web) consoleCSV(w http.ResponseWriter, r *http.Request) {
	c, ok := wb.consoleCaseOf(w, r)
	if !ok {
		return
	}
	tr := wb.consoleTrace(w, r, c, r.URL.Query().Get("trace"))
	if tr == nil {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="case-%d-%s.csv"`, c.ID, tr.ID))
	if err := trace.WriteCSV(w, filtered(tr)); err != nil {
		wb.log.Error("web: csv", "case", c.ID, "err", err)
	}
}

// consoleReport shows the printable case report: the summary, the
// timeline, the per-venue summary, the contact graph (scaled by the print
// stylesheet to fit an A4 page) and every contact, on one page with a
// print stylesheet.
func (wb *Web) consoleReport(w http.ResponseWriter, r *http.Request) {
	c, ok := wb.consoleCaseOf(w, r)
	if !ok {
		return
	}
	tr := wb.consoleTrace(w, r, c, r.URL.Query().Get("trace"))
	if tr == nil {
		return
	}
	venues, err := wb.venuesOf(r.Context(), traceVenueIDs(tr.Result))
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	res := filtered(tr)
	p := consoleCasePage{Case: c, Trace: tr, Tab: "report", All: len(res.Contacts),
		Timeline: timeline(res, venues), Venues: venueSummary(res, venues)}
	p.Contacts, p.Total = contactRows(res, venues, contactView{Page: -1}) // every contact
	if p.Graph, err = caseGraph(r, res, venues, "report-graph"); err != nil {
		wb.serverError(w, r, err)
		return
	}
	wb.render(w, r, http.StatusOK, "console_case", p)
}
