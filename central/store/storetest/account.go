package storetest

import (
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
)

// account returns an account named name with a fake password hash.
func account(name, role string) store.Account {
	return store.Account{Name: name, Role: role, Phone: "+821012345678",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + name, Created: base, CreatedBy: "admin"}
}

// session returns a session of acct whose id is "id-"+id.
func session(id, acct string, created time.Time) store.Session {
	return store.Session{Hash: sha256.Sum256([]byte("id-" + id)), Account: acct, CSRF: "csrf-" + id, Created: created, LastSeen: created}
}

// Ensure that accounts keep every field, are listed in name order, never
// reuse a name, share one namespace with API tokens (same name, same
// role), count failed sign-ins into a lockout, own venues, and that
// disabling one deletes its sessions and revokes its token; all of it
// across reopening.
func testAccounts(t *testing.T, h *harness) {
	s := h.store("a")
	if list, err := s.Accounts(h.ctx); err != nil || len(list) != 0 {
		t.Fatalf("Accounts of an empty store = %v, %v", list, err)
	}
	if _, err := s.Account(h.ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Account of an empty store: %v, want ErrNotFound", err)
	}
	for _, f := range []func() error{
		func() error { _, err := s.DisableAccount(h.ctx, "nobody", base); return err },
		func() error { return s.AddAccountVenue(h.ctx, "nobody", "v-1") },
		func() error { _, err := s.RecordSignIn(h.ctx, "nobody", false, base, 5, time.Minute); return err },
	} {
		if err := f(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("change of an unknown account: %v, want ErrNotFound", err)
		}
	}
	// kim.jiwoo had an investigator's API token before her account.
	if err := s.AddAPIToken(h.ctx, apiToken("kim.jiwoo", "investigator")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAPIToken(h.ctx, apiToken("lee.admin", "admin")); err != nil {
		t.Fatal(err)
	}
	kim, owner := account("kim.jiwoo", "investigator"), account("park.cafe", "business")
	owner.Venues = []string{"v-2", "v-1"}
	owner.CreatedBy = "park.cafe"
	for _, a := range []store.Account{owner, kim} {
		if err := s.AddAccount(h.ctx, a); err != nil {
			t.Fatalf("AddAccount %s: %v", a.Name, err)
		}
	}
	owner.Venues = []string{"v-1", "v-2"}
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"same name", s.AddAccount(h.ctx, account("kim.jiwoo", "investigator"))},
		{"a token's name with another role", s.AddAccount(h.ctx, account("lee.admin", "business"))},
		{"a token for an account of another role", s.AddAPIToken(h.ctx, apiToken("park.cafe", "admin"))},
	} {
		if !errors.Is(tt.err, store.ErrExists) {
			t.Errorf("%s: %v, want ErrExists", tt.name, tt.err)
		}
	}
	if err := s.AddAccount(h.ctx, account("lee.admin", "admin")); err != nil {
		t.Errorf("an account of an API token's name and role: %v", err)
	}
	if err := s.AddAccountVenue(h.ctx, "park.cafe", "v-0"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAccountVenue(h.ctx, "park.cafe", "v-0"); err != nil {
		t.Fatalf("adding a venue again: %v", err)
	}
	owner.Venues = []string{"v-0", "v-1", "v-2"}
	if got, err := s.Account(h.ctx, "park.cafe"); err != nil || !reflect.DeepEqual(got, owner) {
		t.Fatalf("Account = %+v, %v; want %+v", got, err, owner)
	}

	// Four failures, a good one, then five failures: locked.
	for i, ok := range []bool{false, false, false, false, true, false, false, false, false} {
		a, err := s.RecordSignIn(h.ctx, "kim.jiwoo", ok, base, 5, 15*time.Minute)
		if err != nil || !a.LockedUntil.IsZero() {
			t.Fatalf("attempt %d: %+v, %v; want no lockout", i, a, err)
		}
	}
	a, err := s.RecordSignIn(h.ctx, "kim.jiwoo", false, base.Add(time.Minute), 5, 15*time.Minute)
	if want := base.Add(16 * time.Minute); err != nil || !a.LockedUntil.Equal(want) || a.Failures != 0 {
		t.Fatalf("fifth failure in a row = %+v, %v; want locked until %v with 0 failures", a, err, want)
	}
	kim.LockedUntil = base.Add(16 * time.Minute)

	sess := session("1", "kim.jiwoo", base)
	other := session("2", "park.cafe", base)
	for _, ss := range []store.Session{sess, other} {
		if err := s.AddSession(h.ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddSession(h.ctx, sess); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddSession twice: %v, want ErrExists", err)
	}
	if err := s.AddSession(h.ctx, session("3", "nobody", base)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddSession of an unknown account: %v, want ErrNotFound", err)
	}
	if err := s.TouchSession(h.ctx, sess.Hash, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(h.ctx, sess.Hash, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	sess.LastSeen = base.Add(time.Hour)
	if got, err := s.Session(h.ctx, sess.Hash); err != nil || !reflect.DeepEqual(got, sess) {
		t.Fatalf("Session = %+v, %v; want %+v (LastSeen never backwards)", got, err, sess)
	}
	if err := s.TouchSession(h.ctx, sha256.Sum256([]byte("none")), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchSession of an unknown session: %v, want ErrNotFound", err)
	}

	// Reopen: accounts and sessions survive.
	s.close()
	s = h.store("a")
	if got, err := s.Account(h.ctx, "kim.jiwoo"); err != nil || !reflect.DeepEqual(got, kim) {
		t.Fatalf("Account after reopening = %+v, %v; want %+v", got, err, kim)
	}
	list, err := s.Accounts(h.ctx)
	if err != nil || len(list) != 3 || list[0].Name != "kim.jiwoo" || list[1].Name != "lee.admin" || list[2].Name != "park.cafe" {
		t.Fatalf("Accounts = %+v, %v; want kim.jiwoo, lee.admin, park.cafe", list, err)
	}

	// Disabling kim.jiwoo: her sessions go, her token is revoked, the
	// first time stays.
	off := base.Add(2 * time.Hour)
	d, err := s.DisableAccount(h.ctx, "kim.jiwoo", off)
	if err != nil || !d.Disabled.Equal(off) {
		t.Fatalf("DisableAccount = %+v, %v", d, err)
	}
	if d, err := s.DisableAccount(h.ctx, "kim.jiwoo", off.Add(time.Hour)); err != nil || !d.Disabled.Equal(off) {
		t.Fatalf("disabling again = %+v, %v; want the first time kept", d, err)
	}
	if _, err := s.Session(h.ctx, sess.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a disabled account's session: %v, want ErrNotFound", err)
	}
	if _, err := s.Session(h.ctx, other.Hash); err != nil {
		t.Errorf("another account's session after disabling kim.jiwoo: %v", err)
	}
	tok, err := s.APITokenByHash(h.ctx, apiToken("kim.jiwoo", "investigator").Hash)
	if err != nil || !tok.Revoked.Equal(off) {
		t.Errorf("kim.jiwoo's API token after disabling her account = %+v, %v; want revoked at %v", tok, err, off)
	}
	if err := s.AddAccount(h.ctx, account("kim.jiwoo", "investigator")); !errors.Is(err, store.ErrExists) {
		t.Errorf("a disabled account's name again: %v, want ErrExists", err)
	}
	if err := s.DeleteSession(h.ctx, other.Hash); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(h.ctx, other.Hash); err != nil {
		t.Errorf("deleting a deleted session: %v", err)
	}
	if _, err := s.Session(h.ctx, other.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted session: %v, want ErrNotFound", err)
	}
}

// Ensure that DeleteExpiredSessions deletes exactly the sessions idle
// too long or older than the absolute limit.
func testSessionsExpire(t *testing.T, h *harness) {
	s := h.store("a")
	if err := s.AddAccount(h.ctx, account("kim.jiwoo", "investigator")); err != nil {
		t.Fatal(err)
	}
	fresh := session("fresh", "kim.jiwoo", base.Add(10*time.Hour))
	idle := session("idle", "kim.jiwoo", base.Add(9*time.Hour))
	old := session("old", "kim.jiwoo", base) // created long ago but busy
	old.LastSeen = base.Add(11 * time.Hour)
	for _, ss := range []store.Session{fresh, idle, old} {
		if err := s.AddSession(h.ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteExpiredSessions(h.ctx, base.Add(10*time.Hour), base.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
	for _, tt := range []struct {
		ss   store.Session
		kept bool
	}{{fresh, true}, {idle, false}, {old, false}} {
		_, err := s.Session(h.ctx, tt.ss.Hash)
		if kept := err == nil; kept != tt.kept || (err != nil && !errors.Is(err, store.ErrNotFound)) {
			t.Errorf("session %s: %v, want kept %v", tt.ss.CSRF, err, tt.kept)
		}
	}
}
