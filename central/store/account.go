package store

import (
	"context"
	"slices"
	"time"
)

// Account is a web account: a person who signs in to the central's pages
// (central/web) with a name and a password.
//
// Accounts and named API tokens share one namespace of names, the Who of
// audit events: an account and a token of the same name are the same
// person, so they must have the same role. AddAccount refuses a name whose
// token has another role, AddAPIToken a name whose account has another
// role (both ErrExists), and DisableAccount revokes the token of the same
// name with the account.
type Account struct {
	// Name names the person in audit events, as APIToken.Name: 2 to 64 of
	// a-z, 0-9, '.', '_' and '-', starting with a letter (central/web
	// checks it). Names are never reused, disabled accounts' included.
	Name string `json:"name"`
	// Role is "admin", "investigator", "business" (a venue owner) or
	// "clerk".
	Role string `json:"role"`
	// Phone is the person's contact number, E.164.
	Phone string `json:"phone"`
	// PasswordHash is the password's argon2id hash in the PHC string
	// format ("$argon2id$v=19$m=…,t=…,p=…$salt$hash"); never the password.
	PasswordHash string    `json:"-"`
	Created      time.Time `json:"created"`
	// CreatedBy is the account that added it; its own name for a business
	// owner who signed up.
	CreatedBy string `json:"created_by"`
	// Disabled is when the account was disabled; zero while it may sign in.
	Disabled time.Time `json:"disabled,omitzero"`
	// Failures counts the failed sign-ins since the last good one or the
	// last lockout.
	Failures int `json:"failures,omitempty"`
	// LockedUntil is when a lockout after repeated failed sign-ins ends;
	// zero when there was none.
	LockedUntil time.Time `json:"locked_until,omitzero"`
	// Venues are the ids of the venues a business account owns, in order.
	Venues []string `json:"venues,omitempty"`
}

// Session is a signed-in web session. Only the SHA-256 of its id (the
// cookie's value) is stored, so a copy of the store lets no one in.
type Session struct {
	Hash    [32]byte `json:"-"`
	Account string   `json:"account"`
	// CSRF is the session's synchronizer token, which every form posted in
	// the session must carry.
	CSRF     string    `json:"csrf"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
}

// Audit event kinds of the web accounts. Their Who is the account acting
// (the admin who added or disabled one, the owner who signed up), or for a
// failed sign-in and a lockout the account signed in to.
const (
	AuditAccountAdded    = "account-added"
	AuditAccountDisabled = "account-disabled"
	AuditSignInFailed    = "sign-in-failed"
	AuditAccountLocked   = "account-locked"
)

// Accounts stores the web accounts and their sessions.
type Accounts interface {
	// AddAccount stores a new account. ErrExists when its name is taken
	// (a disabled account's included), or is the name of an API token of
	// another role.
	AddAccount(ctx context.Context, a Account) error
	// Account returns the account called name (ErrNotFound).
	Account(ctx context.Context, name string) (Account, error)
	// Accounts returns every account, disabled ones too, in name order.
	Accounts(ctx context.Context) ([]Account, error)
	// DisableAccount sets an account's Disabled to now (an account
	// disabled already keeps its time), deletes its sessions and revokes
	// the API token of the same name, in one transaction, and returns the
	// account as it is after. ErrNotFound for an unknown name.
	DisableAccount(ctx context.Context, name string, now time.Time) (Account, error)
	// AddAccountVenue records that the account owns the venue (adding it
	// again changes nothing). ErrNotFound for an unknown account.
	AddAccountVenue(ctx context.Context, name, venue string) error
	// RecordSignIn records a sign-in attempt of the account in one
	// transaction and returns the account as it is after. A good one
	// (ok) sets Failures to 0. A failed one adds 1 to Failures; when that
	// reaches maxFailures, Failures goes back to 0 and LockedUntil to
	// now+lockFor. ErrNotFound for an unknown name.
	RecordSignIn(ctx context.Context, name string, ok bool, now time.Time, maxFailures int, lockFor time.Duration) (Account, error)

	// AddSession stores a new session (ErrExists for a hash taken;
	// ErrNotFound when its account does not exist).
	AddSession(ctx context.Context, s Session) error
	// Session returns the session whose id hashes to h (ErrNotFound).
	Session(ctx context.Context, h [32]byte) (Session, error)
	// TouchSession sets a session's LastSeen to now (never backwards).
	// ErrNotFound for an unknown session.
	TouchSession(ctx context.Context, h [32]byte, now time.Time) error
	// DeleteSession deletes a session; deleting an unknown one is not an
	// error.
	DeleteSession(ctx context.Context, h [32]byte) error
	// DeleteExpiredSessions deletes the sessions last seen before
	// idleBefore or created before createdBefore, and returns how many.
	DeleteExpiredSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error)
}

// ValidAccountName reports whether name can name an account or an API
// token (one namespace: the Who of audit events): 2 to 64 of a-z, 0-9,
// '.', '_' and '-', starting with a letter, such as "kim.jiwoo" — one
// word in a ledger leaf.
func ValidAccountName(name string) bool {
	if len(name) < 2 || len(name) > 64 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ReservedAccountNames name no account or token: the accounts of the
// central's token files, and names that would read as the central itself
// in an audit.
var ReservedAccountNames = []string{"admin", "investigator", "central", "system", "root"}

// ReservedAccountName reports whether name is one of ReservedAccountNames.
func ReservedAccountName(name string) bool { return slices.Contains(ReservedAccountNames, name) }
