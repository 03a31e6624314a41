package web

import "net/http"

// signOut ends the session and goes to the landing page (303).
func (wb *Web) signOut(w http.ResponseWriter, r *http.Request) {
	if err := wb.endSession(w, r); err != nil {
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
