package web

import (
	"errors"
	"net/http"

	"github.com/anshim/anshim/central/store"
)

// adminAccountsPage is the data of admin_accounts.html.
type adminAccountsPage struct {
	Accounts []store.Account
}

// adminAccounts lists the web accounts with their roles and states.
func (wb *Web) adminAccounts(w http.ResponseWriter, r *http.Request) {
	list, err := wb.Accounts(r.Context())
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	wb.render(w, r, http.StatusOK, "admin_accounts", adminAccountsPage{Accounts: list})
}

// adminAccountDisable disables an account (its sessions end, its API
// token is revoked), as an audit event of the admin acting. An admin
// cannot disable their own account here.
func (wb *Web) adminAccountDisable(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == stateOf(r).Account.Name {
		wb.renderError(w, r, http.StatusBadRequest, "error.badrequest")
		return
	}
	_, err := wb.DisableAccount(r.Context(), name, stateOf(r).Account.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		wb.renderError(w, r, http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		wb.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
}
