package storetest

import (
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
)

// apiToken returns a token named name whose secret is "secret-"+name.
func apiToken(name, role string) store.APIToken {
	return store.APIToken{Name: name, Role: role, Hash: sha256.Sum256([]byte("secret-" + name)), Created: base, CreatedBy: "admin"}
}

// Ensure that API tokens are found by hash with every field, listed in
// name order with the revoked ones, that a name or hash is never reused
// (revoked tokens' included), that revoking keeps its first time, and
// that all of it survives reopening.
func testAPITokens(t *testing.T, h *harness) {
	s := h.store("a")
	if list, err := s.APITokens(h.ctx); err != nil || len(list) != 0 {
		t.Fatalf("APITokens of an empty store = %v, %v", list, err)
	}
	if _, err := s.APITokenByHash(h.ctx, sha256.Sum256([]byte("none"))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("APITokenByHash of an empty store: %v, want ErrNotFound", err)
	}
	if _, err := s.RevokeAPIToken(h.ctx, "nobody", base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeAPIToken of an empty store: %v, want ErrNotFound", err)
	}
	kim, lee := apiToken("kim.jiwoo", "investigator"), apiToken("lee.admin", "admin")
	for _, tok := range []store.APIToken{lee, kim} {
		if err := s.AddAPIToken(h.ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		tok  store.APIToken
	}{
		{"same name", func() store.APIToken { x := apiToken("kim.jiwoo", "admin"); x.Hash[0]++; return x }()},
		{"same hash", func() store.APIToken { x := kim; x.Name = "park"; return x }()},
	} {
		if err := s.AddAPIToken(h.ctx, tt.tok); !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: AddAPIToken = %v, want ErrExists", tt.name, err)
		}
	}
	got, err := s.APITokenByHash(h.ctx, kim.Hash)
	if err != nil || got != kim {
		t.Fatalf("APITokenByHash = %+v, %v; want %+v", got, err, kim)
	}
	revokedAt := base.Add(time.Hour)
	r, err := s.RevokeAPIToken(h.ctx, "kim.jiwoo", revokedAt)
	if err != nil || !r.Revoked.Equal(revokedAt) || r.Name != "kim.jiwoo" || r.Hash != kim.Hash {
		t.Fatalf("RevokeAPIToken = %+v, %v", r, err)
	}
	if r, err := s.RevokeAPIToken(h.ctx, "kim.jiwoo", revokedAt.Add(time.Hour)); err != nil || !r.Revoked.Equal(revokedAt) {
		t.Fatalf("revoking again = %+v, %v; want the first time kept", r, err)
	}
	again := apiToken("kim.jiwoo", "investigator")
	again.Hash[31]++
	if err := s.AddAPIToken(h.ctx, again); !errors.Is(err, store.ErrExists) {
		t.Fatalf("re-adding a revoked name: %v, want ErrExists", err)
	}
	s.close()
	s = h.store("a")
	list, err := s.APITokens(h.ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("APITokens = %+v, %v", list, err)
	}
	kim.Revoked = revokedAt
	if list[0] != kim || list[1] != lee {
		t.Fatalf("APITokens = %+v, want %+v then %+v", list, kim, lee)
	}
	if got, err := s.APITokenByHash(h.ctx, kim.Hash); err != nil || !got.Revoked.Equal(revokedAt) {
		t.Fatalf("a revoked token by hash = %+v, %v", got, err)
	}
}

// Ensure that concurrent adds of one name store one token.
func testAPITokensConcurrent(t *testing.T, h *harness) {
	s := h.store("a")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			tok := apiToken("kim.jiwoo", "investigator")
			tok.Hash[0] = byte(i)
			errs[i] = s.AddAPIToken(h.ctx, tok)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrExists):
			t.Errorf("AddAPIToken: %v", err)
		}
	}
	if list, err := s.APITokens(h.ctx); ok != 1 || err != nil || len(list) != 1 {
		t.Fatalf("%d adds succeeded, list %+v, %v; want exactly 1", ok, list, err)
	}
}
