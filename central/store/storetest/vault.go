package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
)

// testVault holds the identity vault's conformance tests.
func testVault(t *testing.T, h *harness) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"AddPerson", testVaultAddPerson},
		{"AddPerson_Concurrent", testVaultAddPersonConcurrent},
		{"Touch", testVaultTouch},
		{"Cards", testVaultCards},
		{"Cards_Concurrent", testVaultCardsConcurrent},
		{"Destroy", testVaultDestroy},
		{"Reopen", testVaultReopen},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, &harness{t: t, open: h.open, ctx: h.ctx})
		})
	}
}

// newPerson returns a person whose fields all derive from n: what the
// vault would store, with made-up sealed bytes.
func newPerson(n int) store.Person {
	p := store.Person{
		ID:       fmt.Sprintf("p-%016x", n),
		Index:    sha256.Sum256(fmt.Appendf(nil, "storetest index %d", n)),
		Created:  base.Add(time.Duration(n) * time.Minute),
		LastUsed: base.Add(time.Duration(n) * time.Minute),
	}
	ps := sha256.Sum256(fmt.Appendf(nil, "storetest pseudonym %d", n))
	copy(p.Pseudonym[:], ps[:])
	// Sealed bytes of varying length, with every byte value.
	p.Sealed = make([]byte, 40+n%7)
	for i := range p.Sealed {
		p.Sealed[i] = byte(n*7 + i*13)
	}
	p.Sealed[0] = 0
	return p
}

func addPerson(t *testing.T, s store.Store, p store.Person) {
	t.Helper()
	if err := s.AddPerson(t.Context(), p); err != nil {
		t.Fatalf("AddPerson %s: %v", p.ID, err)
	}
}

// checkPerson checks that got is want, field for field.
func checkPerson(t *testing.T, what string, got, want store.Person) {
	t.Helper()
	switch {
	case got.ID != want.ID || got.Pseudonym != want.Pseudonym || got.Index != want.Index:
		t.Fatalf("%s: person %s pseudonym %x index %x, want %s %x %x", what, got.ID, got.Pseudonym[:4], got.Index[:4], want.ID, want.Pseudonym[:4], want.Index[:4])
	case !bytes.Equal(got.Sealed, want.Sealed):
		t.Fatalf("%s: sealed identity %x, want %x", what, got.Sealed, want.Sealed)
	case !got.Created.Equal(want.Created) || !got.LastUsed.Equal(want.LastUsed):
		t.Fatalf("%s: created %v last used %v, want %v %v", what, got.Created, got.LastUsed, want.Created, want.LastUsed)
	case len(got.Cards) != len(want.Cards):
		t.Fatalf("%s: cards %+v, want %+v", what, got.Cards, want.Cards)
	}
	for i := range got.Cards {
		g, w := got.Cards[i], want.Cards[i]
		if g.Serial != w.Serial || g.Revoked != w.Revoked || !g.Issued.Equal(w.Issued) {
			t.Fatalf("%s: cards %+v, want %+v", what, got.Cards, want.Cards)
		}
	}
}

// lookUpPerson looks want up by id, index and pseudonym and checks each
// answer.
func lookUpPerson(t *testing.T, s store.Store, want store.Person) {
	t.Helper()
	ctx := t.Context()
	got, err := s.Person(ctx, want.ID)
	if err != nil {
		t.Fatalf("Person %s: %v", want.ID, err)
	}
	checkPerson(t, "Person", got, want)
	got, err = s.PersonByIndex(ctx, want.Index)
	if err != nil {
		t.Fatalf("PersonByIndex of %s: %v", want.ID, err)
	}
	checkPerson(t, "PersonByIndex", got, want)
	got, err = s.PersonByPseudonym(ctx, want.Pseudonym)
	if err != nil {
		t.Fatalf("PersonByPseudonym of %s: %v", want.ID, err)
	}
	checkPerson(t, "PersonByPseudonym", got, want)
}

// checkGone checks that p is found by none of its keys: by id with
// wantByID, by index and pseudonym with ErrNotFound.
func checkGone(t *testing.T, s store.Store, p store.Person, wantByID error) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.Person(ctx, p.ID); !errors.Is(err, wantByID) || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Person %s: %v, want %v", p.ID, err, wantByID)
	}
	if _, err := s.PersonByIndex(ctx, p.Index); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PersonByIndex of %s: %v, want ErrNotFound", p.ID, err)
	}
	if _, err := s.PersonByPseudonym(ctx, p.Pseudonym); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PersonByPseudonym of %s: %v, want ErrNotFound", p.ID, err)
	}
}

// Ensure that a person is stored once, found by id, blind index and
// pseudonym with every field intact, and that a taken id, pseudonym or
// index is refused with an error naming it, storing nothing.
func testVaultAddPerson(t *testing.T, h *harness) {
	s := h.store("vault")
	ctx := h.ctx
	p1, p2 := newPerson(1), newPerson(2)
	checkGone(t, s, p1, store.ErrNotFound)
	if _, err := s.Person(ctx, p1.ID); errors.Is(err, store.ErrDestroyed) {
		t.Fatalf("Person of an unknown id: %v, want ErrNotFound but not ErrDestroyed", err)
	}
	addPerson(t, s, p1)
	addPerson(t, s, p2)
	lookUpPerson(t, s, p1)
	lookUpPerson(t, s, p2)

	for _, tt := range []struct {
		field string
		p     store.Person
	}{
		{"id", func() store.Person { p := newPerson(3); p.ID = p1.ID; return p }()},
		{"pseudonym", func() store.Person { p := newPerson(3); p.Pseudonym = p2.Pseudonym; return p }()},
		{"index", func() store.Person { p := newPerson(3); p.Index = p1.Index; return p }()},
	} {
		err := s.AddPerson(ctx, tt.p)
		var ee *store.ExistsError
		if !errors.Is(err, store.ErrExists) || !errors.As(err, &ee) || ee.Field != tt.field {
			t.Fatalf("AddPerson with a taken %s: %v, want an *ExistsError for %q", tt.field, err, tt.field)
		}
		// Nothing of the refused person is stored.
		if tt.field != "id" {
			if _, err := s.Person(ctx, tt.p.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("refused person %s stored: %v", tt.p.ID, err)
			}
		}
		if tt.field != "index" {
			if got, err := s.PersonByIndex(ctx, tt.p.Index); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("index of the refused person stored (as %s): %v", got.ID, err)
			}
		}
		if tt.field != "pseudonym" {
			if got, err := s.PersonByPseudonym(ctx, tt.p.Pseudonym); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("pseudonym of the refused person stored (as %s): %v", got.ID, err)
			}
		}
	}
	lookUpPerson(t, s, p1)
	lookUpPerson(t, s, p2)

	// Cards given to AddPerson are ignored; invalid persons are refused.
	p3 := newPerson(3)
	p3.Cards = []store.Card{{Serial: 7, Issued: base}}
	addPerson(t, s, p3)
	p3.Cards = nil
	lookUpPerson(t, s, p3)
	for name, p := range map[string]store.Person{
		"empty id":        func() store.Person { p := newPerson(4); p.ID = ""; return p }(),
		"no sealed bytes": func() store.Person { p := newPerson(4); p.Sealed = nil; return p }(),
		"no created time": func() store.Person { p := newPerson(4); p.Created = time.Time{}; return p }(),
		"no last use":     func() store.Person { p := newPerson(4); p.LastUsed = time.Time{}; return p }(),
	} {
		if err := s.AddPerson(ctx, p); err == nil {
			t.Errorf("AddPerson of a person with %s succeeded", name)
		}
	}
	checkGone(t, s, newPerson(4), store.ErrNotFound)
}

// Ensure that of concurrent AddPersons with the same blind index exactly
// one succeeds.
func testVaultAddPersonConcurrent(t *testing.T, h *harness) {
	s := h.store("vault")
	const n = 8
	index := newPerson(0).Index
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			p := newPerson(100 + i)
			p.Index = index
			errs[i] = s.AddPerson(h.ctx, p)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("AddPersons %d and %d with the same index both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, store.ErrExists):
			t.Fatalf("AddPerson %d: %v, want ErrExists", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no AddPerson succeeded")
	}
	got, err := s.PersonByIndex(h.ctx, index)
	if err != nil || got.ID != newPerson(100+won).ID {
		t.Fatalf("PersonByIndex = %s, %v; want %s", got.ID, err, newPerson(100+won).ID)
	}
}

// Ensure that TouchPerson moves the time of last use forward only.
func testVaultTouch(t *testing.T, h *harness) {
	s := h.store("vault")
	ctx := h.ctx
	p := newPerson(1)
	addPerson(t, s, p)
	later := p.LastUsed.Add(36*time.Hour + 123*time.Microsecond)
	if err := s.TouchPerson(ctx, p.ID, later); err != nil {
		t.Fatalf("TouchPerson: %v", err)
	}
	if err := s.TouchPerson(ctx, p.ID, later.Add(-time.Hour)); err != nil {
		t.Fatalf("TouchPerson with an earlier time: %v", err)
	}
	p.LastUsed = later
	lookUpPerson(t, s, p)
	if err := s.TouchPerson(ctx, "p-nobody", later); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchPerson of an unknown person: %v, want ErrNotFound", err)
	}
}

// Ensure that card serials start at 1 and increase per person, that a new
// card revokes the earlier ones and touches the person, and that
// RevokeCard is idempotent.
func testVaultCards(t *testing.T, h *harness) {
	s := h.store("vault")
	ctx := h.ctx
	p, q := newPerson(1), newPerson(2)
	addPerson(t, s, p)
	addPerson(t, s, q)
	addCard := func(id string, now time.Time, wantSerial uint32, wantEarlier []store.Card) store.Card {
		t.Helper()
		c, earlier, err := s.AddCard(ctx, id, now)
		if err != nil {
			t.Fatalf("AddCard %s: %v", id, err)
		}
		if c.Serial != wantSerial || c.Revoked || !c.Issued.Equal(now) {
			t.Fatalf("AddCard %s = %+v, want serial %d issued %v", id, c, wantSerial, now)
		}
		if !slices.EqualFunc(earlier, wantEarlier, func(a, b store.Card) bool {
			return a.Serial == b.Serial && a.Revoked == b.Revoked && a.Issued.Equal(b.Issued)
		}) {
			t.Fatalf("AddCard %s: earlier cards %+v, want %+v", id, earlier, wantEarlier)
		}
		return c
	}
	t1, t2, t3 := base.Add(time.Hour), base.Add(2*time.Hour), base.Add(3*time.Hour)
	c1 := addCard(p.ID, t1, 1, nil)
	c2 := addCard(p.ID, t2, 2, []store.Card{c1})
	qc1 := addCard(q.ID, t1, 1, nil)
	c1.Revoked = true
	p.Cards, p.LastUsed = []store.Card{c1, c2}, t2
	lookUpPerson(t, s, p)

	// A lost card is revoked, twice without harm; the next card gets the
	// next serial and revokes nothing again.
	for range 2 {
		if err := s.RevokeCard(ctx, p.ID, 2); err != nil {
			t.Fatalf("RevokeCard: %v", err)
		}
	}
	c2.Revoked = true
	p.Cards = []store.Card{c1, c2}
	lookUpPerson(t, s, p)
	c3 := addCard(p.ID, t3, 3, []store.Card{c1, c2})
	// An AddCard with an earlier time keeps the later time of last use.
	c4 := addCard(p.ID, t1, 4, []store.Card{c1, c2, c3})
	c3.Revoked = true
	p.Cards, p.LastUsed = []store.Card{c1, c2, c3, c4}, t3
	lookUpPerson(t, s, p)

	// The other person's card is untouched.
	q.Cards, q.LastUsed = []store.Card{qc1}, t1
	lookUpPerson(t, s, q)

	for _, tt := range []struct {
		id     string
		serial uint32
	}{{p.ID, 5}, {p.ID, 0}, {"p-nobody", 1}} {
		if err := s.RevokeCard(ctx, tt.id, tt.serial); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeCard %s %d: %v, want ErrNotFound", tt.id, tt.serial, err)
		}
	}
	if _, _, err := s.AddCard(ctx, "p-nobody", t1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddCard of an unknown person: %v, want ErrNotFound", err)
	}
}

// Ensure that concurrent AddCards of a person get different serials.
func testVaultCardsConcurrent(t *testing.T, h *harness) {
	s := h.store("vault")
	p := newPerson(1)
	addPerson(t, s, p)
	const n = 10
	var wg sync.WaitGroup
	serials := make([]uint32, n)
	for i := range n {
		wg.Go(func() {
			c, _, err := s.AddCard(h.ctx, p.ID, base.Add(time.Duration(i)*time.Second))
			if err != nil {
				t.Error(err)
			}
			serials[i] = c.Serial
		})
	}
	wg.Wait()
	slices.Sort(serials)
	for i, sn := range serials {
		if sn != uint32(i+1) {
			t.Fatalf("serials of concurrent AddCards: %v, want 1..%d", serials, n)
		}
	}
	got, err := s.Person(h.ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range got.Cards {
		if c.Serial != uint32(i+1) || c.Revoked != (i < n-1) {
			t.Fatalf("cards after concurrent AddCards: %+v, want 1..%d, all but the last revoked", got.Cards, n)
		}
	}
}

// Ensure that DestroyPersons destroys exactly the persons last used at or
// before the cutoff, with their cards, index and pseudonym, keeps their ids
// taken, and lets their phone numbers register again.
func testVaultDestroy(t *testing.T, h *harness) {
	s := h.store("vault")
	ctx := h.ctx
	var ps []store.Person
	for i := range 6 {
		p := newPerson(i) // last used base + i minutes
		addPerson(t, s, p)
		ps = append(ps, p)
	}
	if _, _, err := s.AddCard(ctx, ps[1].ID, ps[1].LastUsed); err != nil {
		t.Fatal(err)
	}
	// Touched after its creation: survives a cutoff past its creation.
	touched := base.Add(time.Hour)
	if err := s.TouchPerson(ctx, ps[2].ID, touched); err != nil {
		t.Fatal(err)
	}
	ps[2].LastUsed = touched
	now := base.Add(8 * 7 * 24 * time.Hour)

	if n, err := s.DestroyPersons(ctx, base.Add(-time.Microsecond), now); err != nil || n != 0 {
		t.Fatalf("DestroyPersons before anyone's last use = %d, %v; want 0", n, err)
	}
	cutoff := ps[3].LastUsed // inclusive: 0, 1 and 3 go, 2 was touched later
	n, err := s.DestroyPersons(ctx, cutoff, now)
	if err != nil || n != 3 {
		t.Fatalf("DestroyPersons = %d, %v; want 3", n, err)
	}
	for _, i := range []int{0, 1, 3} {
		checkGone(t, s, ps[i], store.ErrDestroyed)
	}
	lookUpPerson(t, s, ps[2])
	lookUpPerson(t, s, ps[4])
	lookUpPerson(t, s, ps[5])
	if n, err := s.DestroyPersons(ctx, cutoff, now); err != nil || n != 0 {
		t.Fatalf("DestroyPersons again = %d, %v; want 0", n, err)
	}

	// A destroyed person cannot be used; their id stays taken; their phone
	// number (index) and pseudonym are free again.
	if err := s.TouchPerson(ctx, ps[1].ID, now); !errors.Is(err, store.ErrDestroyed) {
		t.Errorf("TouchPerson of a destroyed person: %v, want ErrDestroyed", err)
	}
	if _, _, err := s.AddCard(ctx, ps[1].ID, now); !errors.Is(err, store.ErrDestroyed) {
		t.Errorf("AddCard of a destroyed person: %v, want ErrDestroyed", err)
	}
	if err := s.RevokeCard(ctx, ps[1].ID, 1); !errors.Is(err, store.ErrDestroyed) {
		t.Errorf("RevokeCard of a destroyed person: %v, want ErrDestroyed", err)
	}
	again := newPerson(10)
	again.ID = ps[0].ID
	var ee *store.ExistsError
	if err := s.AddPerson(ctx, again); !errors.As(err, &ee) || ee.Field != "id" {
		t.Errorf("AddPerson with a destroyed person's id: %v, want an *ExistsError for the id", err)
	}
	again = newPerson(10)
	again.Index, again.Pseudonym = ps[0].Index, ps[0].Pseudonym
	addPerson(t, s, again)
	lookUpPerson(t, s, again)

	n, err = s.DestroyPersons(ctx, now, now)
	if err != nil || n != 4 {
		t.Fatalf("DestroyPersons of everyone = %d, %v; want 4", n, err)
	}
	checkGone(t, s, again, store.ErrDestroyed)
}

// Ensure that persons, cards and tombstones survive closing and reopening
// the store.
func testVaultReopen(t *testing.T, h *harness) {
	s := h.store("vault")
	ctx := h.ctx
	p, gone := newPerson(1), newPerson(2)
	gone.LastUsed = base.Add(-time.Hour)
	addPerson(t, s, p)
	addPerson(t, s, gone)
	c1, _, err := s.AddCard(ctx, p.ID, base.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	c2, _, err := s.AddCard(ctx, p.ID, base.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.DestroyPersons(ctx, base.Add(-time.Minute), base); err != nil || n != 1 {
		t.Fatalf("DestroyPersons = %d, %v; want 1", n, err)
	}
	if err := s.close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = h.store("vault")
	c1.Revoked = true
	p.Cards = []store.Card{c1, c2} // LastUsed stays: the cards are older
	lookUpPerson(t, s, p)
	checkGone(t, s, gone, store.ErrDestroyed)
	if c, _, err := s.AddCard(ctx, p.ID, base.Add(3*time.Second)); err != nil || c.Serial != 3 {
		t.Fatalf("AddCard after reopen = %+v, %v; want serial 3", c, err)
	}
}
