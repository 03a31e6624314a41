package web

import (
	"crypto/subtle"
	"net/http"
)

// CSRF: every POST form carries a token in its field "csrf".
//
//   - Signed in: the session's synchronizer token (store.Session.CSRF),
//     made at sign-in and kept in the store.
//   - Signed out (sign-in, sign-up): a double-submit token, the value of
//     the cookie CSRFCookie, which a page with a form sets when missing.
//     Another site can neither read nor set it.
//
// Cross-origin posts are refused before that by http.CrossOriginProtection
// (Sec-Fetch-Site and Origin), and the cookies are SameSite=Lax.

// CSRFCookie holds the token of the signed-out forms.
const CSRFCookie = "anshim_csrf"

// CSRFField is the form field of the token.
const CSRFField = "csrf"

// csrfToken returns the token the forms of this request carry, setting
// the signed-out cookie when it is missing.
func (wb *Web) csrfToken(w http.ResponseWriter, r *http.Request, st *state) string {
	switch {
	case st.Session != nil:
		return st.Session.CSRF
	case st.csrf != "":
		return st.csrf
	}
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, wb.cookie(CSRFCookie, tok, 0))
	st.csrf = tok // a later call for the same request gives the same token
	return tok
}

// checkCSRF reports whether a parsed POST carries the right token.
func checkCSRF(r *http.Request, st *state) bool {
	got := r.PostFormValue(CSRFField)
	var want string
	if st.Session != nil {
		want = st.Session.CSRF
	} else if c, err := r.Cookie(CSRFCookie); err == nil {
		want = c.Value
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
