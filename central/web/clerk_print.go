package web

import (
	"net/http"
	"strconv"
	"strings"
)

// clerkPrint issues the visitor a new card, which revokes their earlier
// cards (kiosks refuse them within seconds), and goes back to their page
// (303), which offers the new card's PDF.
func (wb *Web) clerkPrint(w http.ResponseWriter, r *http.Request) {
	ops, v, ok := wb.visitorOf(w, r)
	if !ok {
		return
	}
	serial, revoked, err := ops.PrintCard(r.Context(), stateOf(r).Account.Name, v.ID)
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	loc := "/clerk/visitors/" + v.ID + "?printed=" + strconv.FormatUint(uint64(serial), 10)
	if len(revoked) > 0 {
		s := make([]string, len(revoked))
		for i, n := range revoked {
			s[i] = strconv.FormatUint(uint64(n), 10)
		}
		loc += "&revoked=" + strings.Join(s, ",")
	}
	http.Redirect(w, r, loc, http.StatusSeeOther)
}
