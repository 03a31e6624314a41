package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/form"
)

// signInSubmit takes the sign-in form. A wrong name or password is 401
// with one message for both; a locked account 429 without checking the
// password; a good one starts a session (a new id: no fixation) and goes
// to next or the account's home (303).
func (wb *Web) signInSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := form.NewSignIn(r)
	data := signInPage{Name: f.Name, Next: f.Next}
	if err := f.Validate(); err != nil {
		var fe *form.FieldError
		errors.As(err, &fe)
		data.Error = fe.Key
		wb.render(w, r, http.StatusBadRequest, "signin", data)
		return
	}
	now := wb.now().UTC()
	a, err := wb.st.Account(ctx, f.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		CheckPassword(wb.dummyHash, f.Password) // the same time as a known name
		wb.log.Info("web: sign-in of an unknown account", "addr", wb.clientAddr(r))
		data.Error = "signin.failed"
		wb.render(w, r, http.StatusUnauthorized, "signin", data)
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	case now.Before(a.LockedUntil):
		wb.log.Warn("web: sign-in of a locked account", "name", a.Name, "addr", wb.clientAddr(r), "until", a.LockedUntil)
		w.Header().Set("Retry-After", strconv.Itoa(int(a.LockedUntil.Sub(now).Seconds())+1))
		data.Error = "signin.locked"
		wb.render(w, r, http.StatusTooManyRequests, "signin", data)
		return
	}
	ok, err := CheckPassword(a.PasswordHash, f.Password)
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	if !ok || !a.Disabled.IsZero() {
		after, err := wb.st.RecordSignIn(ctx, a.Name, false, now, wb.opts.MaxFailures, wb.opts.LockFor)
		if err != nil {
			wb.serverError(w, r, err)
			return
		}
		d, _ := json.Marshal(map[string]any{"addr": wb.clientAddr(r), "disabled": !a.Disabled.IsZero()})
		wb.audit(ctx, store.AuditSignInFailed, a.Name, string(d))
		wb.log.Warn("web: sign-in failed", "name", a.Name, "addr", wb.clientAddr(r))
		data.Error = "signin.failed"
		status := http.StatusUnauthorized
		if after.LockedUntil.After(now) {
			d, _ := json.Marshal(map[string]any{"until": after.LockedUntil, "failures": wb.opts.MaxFailures})
			wb.audit(ctx, store.AuditAccountLocked, a.Name, string(d))
			wb.log.Warn("web: account locked", "name", a.Name, "until", after.LockedUntil)
			data.Error, status = "signin.locked", http.StatusTooManyRequests
		}
		wb.render(w, r, status, "signin", data)
		return
	}
	if _, err := wb.st.RecordSignIn(ctx, a.Name, true, now, wb.opts.MaxFailures, wb.opts.LockFor); err != nil {
		wb.serverError(w, r, err)
		return
	}
	// A session cookie of before (another account's) ends here.
	if st := stateOf(r); st.Session != nil {
		if err := wb.st.DeleteSession(ctx, st.Session.Hash); err != nil {
			wb.serverError(w, r, err)
			return
		}
	}
	if err := wb.startSession(ctx, w, a.Name); err != nil {
		wb.serverError(w, r, err)
		return
	}
	wb.log.Info("web: signed in", "name", a.Name, "role", a.Role)
	http.Redirect(w, r, cmpOr(f.Next, home(a.Role)), http.StatusSeeOther)
}
