package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/form"
)

// ErrInvalid marks a request the web refuses: a bad name, role, phone or
// password. The error says which field.
var ErrInvalid = errors.New("invalid request")

// NewAccount is what AddAccount needs to make an account.
type NewAccount struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Phone    string `json:"phone"`
	Password string `json:"-"`
	// Venues a business account owns from the start.
	Venues []string `json:"venues,omitempty"`
}

// AddAccount checks a, hashes its password and stores the account as
// added by the account by (the new account's own name for an owner who
// signed up); the addition is an audit event of by. ErrInvalid for a bad
// field, store.ErrExists for a name taken (by an account, a reserved name,
// or an API token of another role: one namespace).
func (wb *Web) AddAccount(ctx context.Context, a NewAccount, by string) (store.Account, error) {
	f := form.Account{Name: a.Name, Role: a.Role, Phone: a.Phone, Password: a.Password, Confirm: a.Password}
	if err := f.Validate(); err != nil {
		return store.Account{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if store.ReservedAccountName(f.Name) {
		return store.Account{}, fmt.Errorf("name %s: %w (reserved)", f.Name, store.ErrExists)
	}
	hash, err := HashPassword(a.Password)
	if err != nil {
		return store.Account{}, err
	}
	acct := store.Account{Name: f.Name, Role: f.Role, Phone: f.Phone, PasswordHash: hash,
		Created: wb.now().UTC(), CreatedBy: by, Venues: a.Venues}
	if err := wb.st.AddAccount(ctx, acct); err != nil {
		return store.Account{}, err
	}
	wb.log.Info("web account added", "name", acct.Name, "role", acct.Role, "by", by)
	d, _ := json.Marshal(map[string]any{"name": acct.Name, "role": acct.Role, "venues": acct.Venues})
	wb.audit(ctx, store.AuditAccountAdded, by, string(d))
	return wb.st.Account(ctx, acct.Name)
}

// DisableAccount disables an account at once: its sessions end and the API
// token of its name is revoked. Disabling it again changes nothing. The
// first disabling is an audit event of the account by.
func (wb *Web) DisableAccount(ctx context.Context, name, by string) (store.Account, error) {
	before, err := wb.st.Account(ctx, name)
	if err != nil {
		return store.Account{}, err
	}
	a, err := wb.st.DisableAccount(ctx, name, wb.now().UTC())
	if err != nil {
		return store.Account{}, err
	}
	if before.Disabled.IsZero() {
		wb.log.Info("web account disabled", "name", name, "by", by)
		d, _ := json.Marshal(map[string]any{"name": name, "role": a.Role})
		wb.audit(ctx, store.AuditAccountDisabled, by, string(d))
	}
	return a, nil
}

// Accounts lists the accounts in name order.
func (wb *Web) Accounts(ctx context.Context) ([]store.Account, error) {
	return wb.st.Accounts(ctx)
}
