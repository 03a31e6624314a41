package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/pass"
)

// testClock is the clock of Register.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 500_000_000, time.UTC)

func testSigner() pass.Signer {
	seed := sha256.Sum256([]byte("vault test pass key"))
	return pass.Signer{Private: ed25519.NewKeyFromSeed(seed[:])}
}

// openBolt opens a bbolt store in the test's directory, closed when the
// test ends.
func openBolt(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, &boltstore.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newVault returns a vault on st with the test KEK and signer, and its
// clock.
func newVault(t *testing.T, st store.Vault) (*Vault, *testClock) {
	t.Helper()
	clock := &testClock{t: t0}
	v, err := New(st, testKEK(), testSigner(), &Options{Now: clock.Now, Rand: mathrand.NewChaCha8([32]byte{1})})
	if err != nil {
		t.Fatal(err)
	}
	return v, clock
}

func register(t *testing.T, v *Vault, name, phone string) Person {
	t.Helper()
	p, err := v.Register(t.Context(), name, phone)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	return p
}

// Ensure that a registered person is found by every way of writing their
// number, revealed as registered, and given a fresh id and pseudonym.
func TestVault_RoundTrip(t *testing.T) {
	v, _ := newVault(t, openBolt(t, filepath.Join(t.TempDir(), "central.db")))
	ctx := t.Context()
	p := register(t, v, " 김민수 ", "010-1234-5678")
	q := register(t, v, "Kim Min-su", "+82 16-234-5678")
	if !strings.HasPrefix(p.ID, "p-") || len(p.ID) != 18 || p.ID == q.ID || p.Pseudonym == q.Pseudonym || p.Pseudonym == ([16]byte{}) {
		t.Fatalf("persons %+v and %+v", p, q)
	}
	if !p.Created.Equal(t0) || !p.LastUsed.Equal(t0) || len(p.Cards) != 0 {
		t.Errorf("new person %+v", p)
	}
	for _, phone := range []string{"01012345678", "+821012345678", "+82 10 1234 5678", "0082-10-1234-5678"} {
		got, err := v.Lookup(ctx, phone)
		if err != nil || got.ID != p.ID || got.Pseudonym != p.Pseudonym {
			t.Errorf("Lookup(%q) = %+v, %v; want %s", phone, got, err, p.ID)
		}
	}
	if _, err := v.Lookup(ctx, "010-9999-9999"); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, ErrNotRegistered) ||
		err.Error() != "no visitor is registered with this phone number" {
		t.Errorf("Lookup of an unregistered number: %v, want ErrNotRegistered (ErrNotFound) saying so", err)
	}
	if _, err := v.Lookup(ctx, "02-123-4567"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Lookup of a landline: %v, want ErrInvalid", err)
	}
	for _, tt := range []struct {
		p           Person
		name, phone string
	}{{p, "김민수", "+821012345678"}, {q, "Kim Min-su", "+82162345678"}} {
		name, phone, err := v.Reveal(ctx, tt.p.ID)
		if err != nil || name != tt.name || phone != tt.phone {
			t.Errorf("Reveal %s = %q, %q, %v; want %q, %q", tt.p.ID, name, phone, err, tt.name, tt.phone)
		}
	}
	if _, _, err := v.Reveal(ctx, "p-nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Reveal of an unknown id: %v", err)
	}
}

// Ensure that bad input and a registered number are refused with an error
// naming the field, storing nothing.
func TestVault_Register_Refused(t *testing.T) {
	v, _ := newVault(t, openBolt(t, filepath.Join(t.TempDir(), "central.db")))
	ctx := t.Context()
	p := register(t, v, "Alice", "010-1234-5678")
	for _, tt := range []struct {
		name, phone, field string
		is                 error
	}{
		{"", "010-2222-3333", "name", ErrInvalid},
		{"Bob\nLee", "010-2222-3333", "name", ErrInvalid},
		{"Bob", "", "phone", ErrInvalid},
		{"Bob", "064-710-2114", "phone", ErrInvalid},
		{"Bob", "010-2222-333", "phone", ErrInvalid},
		{"Bob", "+82 10 1234 5678", "phone", store.ErrExists},
	} {
		_, err := v.Register(ctx, tt.name, tt.phone)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, tt.is) {
			t.Errorf("Register(%q, %q) = %v, want a %s error (%v)", tt.name, tt.phone, err, tt.field, tt.is)
			continue
		}
		if strings.Contains(err.Error(), "Bob") || strings.Contains(err.Error(), "1234") {
			t.Errorf("Register(%q, %q): error %q repeats the input", tt.name, tt.phone, err)
		}
	}
	_, err := v.Register(ctx, "Bob", "010-1234-5678")
	if want := "phone: registered already, as person " + p.ID; err == nil || err.Error() != want {
		t.Errorf("Register of a registered number: %v, want %q", err, want)
	}
	// Nothing of Bob was stored: his good number is free.
	if _, err := v.Lookup(ctx, "010-2222-3333"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused registration stored the number: %v", err)
	}
	if name, _, err := v.Reveal(ctx, p.ID); err != nil || name != "Alice" {
		t.Errorf("registered person after refusals: %q, %v", name, err)
	}
}

// parsePass parses and verifies a pass text with the test signer.
func parsePass(t *testing.T, text string, now time.Time) pass.Pass {
	t.Helper()
	p, err := pass.NewVerifier([]pass.PublicKey{testSigner().PublicKey()}, nil).Verify(text, now)
	if err != nil {
		t.Fatalf("pass does not verify: %v", err)
	}
	return p
}

// Ensure that passes carry the person's pseudonym, that card serials
// increase, that a new card revokes the earlier ones, and that revoking a
// card gives the revocation id of its pass.
func TestVault_Passes(t *testing.T) {
	v, _ := newVault(t, openBolt(t, filepath.Join(t.TempDir(), "central.db")))
	ctx := t.Context()
	p := register(t, v, "Alice", "010-1234-5678")
	now := t0.Add(time.Hour)

	app, err := v.IssuePass(ctx, p.ID, pass.KindApp, now)
	if err != nil {
		t.Fatal(err)
	}
	ap := parsePass(t, app.Text, now)
	if ap.Pseudonym != p.Pseudonym || ap.Kind != pass.KindApp || ap.Serial != 0 || app.Serial != 0 || len(app.Revoke) != 0 ||
		!ap.Issued.Equal(now.Truncate(time.Second)) || !ap.Expires.Equal(ap.Issued.Add(DefaultPassLifetime)) || !app.Expires.Equal(ap.Expires) {
		t.Fatalf("app pass %+v (%+v)", ap, app)
	}
	if got, _ := v.Person(ctx, p.ID); !got.LastUsed.Equal(now) {
		t.Errorf("last use after an app pass: %v, want %v", got.LastUsed, now)
	}

	var cards []pass.Pass
	for i := range 3 {
		c, err := v.IssuePass(ctx, p.ID, pass.KindCard, now.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		cp := parsePass(t, c.Text, now.Add(time.Hour))
		if cp.Kind != pass.KindCard || cp.Serial != uint32(i+1) || c.Serial != cp.Serial || cp.Pseudonym != p.Pseudonym {
			t.Fatalf("card %d: %+v", i+1, cp)
		}
		var want []Revocation
		for j, earlier := range cards {
			want = append(want, Revocation{Serial: earlier.Serial, ID: earlier.RevocationID(), Before: j < len(cards)-1})
		}
		if !slices.Equal(c.Revoke, want) {
			t.Fatalf("card %d revokes %+v, want %+v", i+1, c.Revoke, want)
		}
		cards = append(cards, cp)
	}

	id, err := v.RevokeCard(ctx, p.ID, 3)
	if err != nil || id != cards[2].RevocationID() {
		t.Fatalf("RevokeCard 3 = %s, %v; want %s", id, err, cards[2].RevocationID())
	}
	if again, err := v.RevokeCard(ctx, p.ID, 3); err != nil || again != id {
		t.Fatalf("RevokeCard 3 again = %s, %v", again, err)
	}
	got, err := v.Person(ctx, p.ID)
	if err != nil || len(got.Cards) != 3 || !got.Cards[0].Revoked || !got.Cards[1].Revoked || !got.Cards[2].Revoked {
		t.Fatalf("cards after revocation: %+v, %v", got.Cards, err)
	}
	for _, tt := range []struct {
		id     string
		serial uint32
	}{{p.ID, 4}, {p.ID, 0}, {"p-nobody", 1}} {
		if _, err := v.RevokeCard(ctx, tt.id, tt.serial); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeCard %s %d: %v, want ErrNotFound", tt.id, tt.serial, err)
		}
	}
	if _, err := v.IssuePass(ctx, p.ID, pass.Kind(3), now); !errors.Is(err, ErrInvalid) {
		t.Errorf("IssuePass of kind 3: %v, want ErrInvalid", err)
	}
	if _, err := v.IssuePass(ctx, "p-nobody", pass.KindApp, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("IssuePass to an unknown person: %v, want ErrNotFound", err)
	}
}

// Ensure that identities unused for the retention time are destroyed,
// counted once, and that the use of a pass keeps an identity.
func TestVault_DestroyUnused(t *testing.T) {
	v, clock := newVault(t, openBolt(t, filepath.Join(t.TempDir(), "central.db")))
	ctx := t.Context()
	idle := register(t, v, "Idle", "010-1111-1111")
	active := register(t, v, "Active", "010-2222-2222")
	clock.Set(t0.Add(7 * 24 * time.Hour))
	late := register(t, v, "Late", "010-3333-3333")
	if _, err := v.IssuePass(ctx, active.ID, pass.KindCard, t0.Add(6*7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := v.Touch(ctx, late.ID, t0.Add(7*24*time.Hour+time.Second)); err != nil {
		t.Fatal(err)
	}

	// One second short of 8 weeks: nothing.
	if n, err := v.DestroyUnused(ctx, t0.Add(Retention-time.Second), Retention); err != nil || n != 0 {
		t.Fatalf("DestroyUnused before 8 weeks = %d, %v; want 0", n, err)
	}
	// 8 weeks to the nanosecond after the last use: destroyed.
	if n, err := v.DestroyUnused(ctx, t0.Add(Retention), Retention); err != nil || n != 1 {
		t.Fatalf("DestroyUnused at 8 weeks = %d, %v; want 1", n, err)
	}
	if n, err := v.DestroyUnused(ctx, t0.Add(Retention), Retention); err != nil || n != 0 {
		t.Fatalf("DestroyUnused again = %d, %v; want 0", n, err)
	}
	if _, _, err := v.Reveal(ctx, idle.ID); !errors.Is(err, store.ErrDestroyed) {
		t.Errorf("Reveal of a destroyed identity: %v, want ErrDestroyed", err)
	}
	if _, err := v.Lookup(ctx, "010-1111-1111"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Lookup of a destroyed identity: %v, want ErrNotFound", err)
	}
	if _, err := v.IssuePass(ctx, idle.ID, pass.KindApp, t0.Add(Retention)); !errors.Is(err, store.ErrDestroyed) {
		t.Errorf("IssuePass to a destroyed identity: %v, want ErrDestroyed", err)
	}
	for _, p := range []Person{active, late} {
		if _, _, err := v.Reveal(ctx, p.ID); err != nil {
			t.Errorf("Reveal %s after destruction of others: %v", p.ID, err)
		}
	}
	// The number registers again, as a new person.
	again := register(t, v, "Idle", "010-1111-1111")
	if again.ID == idle.ID || again.Pseudonym == idle.Pseudonym {
		t.Errorf("registered again as %+v, was %+v", again, idle)
	}
	// 8 weeks after Late's touch, Late and the new registration go;
	// Active, whose card is newer, stays.
	if n, err := v.DestroyUnused(ctx, t0.Add(7*24*time.Hour+time.Second+Retention), Retention); err != nil || n != 2 {
		t.Fatalf("DestroyUnused 8 weeks after the touch = %d, %v; want 2", n, err)
	}
	if _, _, err := v.Reveal(ctx, active.ID); err != nil {
		t.Errorf("Reveal of the active person: %v", err)
	}
	if _, err := v.DestroyUnused(ctx, t0, 0); err == nil {
		t.Error("DestroyUnused with no idle time succeeded")
	}
}

// personalForms are the ways a name or a number could show up in a store
// that held them in clear.
func personalForms(name, phone string) [][]byte {
	e164, err := NormalizePhone(phone)
	if err != nil {
		panic(err)
	}
	national := "0" + e164[3:]
	return [][]byte{[]byte(name), []byte(phone), []byte(e164), []byte(e164[1:]), []byte(national), []byte(national[1:]), []byte(national[3:])}
}

// Ensure that the bbolt file holds neither the name nor the phone number
// in any form, while the test could find them: it finds the person's id
// and pseudonym.
func TestVault_NothingInClear_Bolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.db")
	st := openBolt(t, path)
	v, _ := newVault(t, st)
	const name, phone = "Hong Gildong 홍길동", "010-9876-5432"
	p := register(t, v, name, phone)
	if _, err := v.IssuePass(t.Context(), p.ID, pass.KindCard, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(p.ID)) || !bytes.Contains(data, p.Pseudonym[:]) {
		t.Fatal("the file does not hold the person's id and pseudonym: the search below would prove nothing")
	}
	for _, form := range personalForms(name, phone) {
		if bytes.Contains(data, form) {
			t.Errorf("the store file holds %q in clear", form)
		}
	}
	for _, part := range strings.Fields(name) {
		if bytes.Contains(data, []byte(part)) {
			t.Errorf("the store file holds %q in clear", part)
		}
	}
}

// Ensure that no column of the PostgreSQL tables of the vault holds the
// name or the phone number in any form, raw or as the row's text.
func TestVault_NothingInClear_Postgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := t.Context()
	st, err := pgstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, _ := newVault(t, st)
	const name, phone = "Hong Gildong 홍길동", "+82 10-9876-5432"
	p := register(t, v, name, phone)
	if _, err := v.IssuePass(ctx, p.ID, pass.KindCard, t0); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var dump bytes.Buffer
	for _, table := range []string{"persons", "person_cards", "person_tombstones"} {
		rows, err := conn.Query(ctx, "SELECT t::text FROM "+table+" t")
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			dump.WriteString(s + "\n")
		}
	}
	// The raw bytes of the person's row.
	var id, pseudonym, index, sealed []byte
	if err := conn.QueryRow(ctx, "SELECT id, pseudonym, blind_index, sealed FROM persons").Scan(&id, &pseudonym, &index, &sealed); err != nil {
		t.Fatal(err)
	}
	raw := bytes.Join([][]byte{id, pseudonym, index, sealed}, []byte{0})
	if !bytes.Contains(dump.Bytes(), []byte(p.ID[2:])) && !bytes.Contains(dump.Bytes(), []byte(hexOf(p.ID))) {
		t.Fatalf("the rows' text does not hold the person's id: the search would prove nothing\n%s", dump.Bytes())
	}
	for _, form := range personalForms(name, phone) {
		for what, data := range map[string][]byte{"row text": dump.Bytes(), "raw columns": raw} {
			if bytes.Contains(data, form) || bytes.Contains(data, []byte(hexOf(string(form)))) {
				t.Errorf("found %q in the %s", form, what)
			}
		}
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}

// Ensure that a vault with another KEK neither finds nor reveals the
// persons of a store.
func TestVault_OtherKEK(t *testing.T) {
	st := openBolt(t, filepath.Join(t.TempDir(), "central.db"))
	v, _ := newVault(t, st)
	p := register(t, v, "Alice", "010-1234-5678")
	kek := *testKEK()
	kek[31] ^= 0x80
	other, err := New(st, &kek, testSigner(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Lookup(t.Context(), "010-1234-5678"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Lookup with another KEK: %v, want ErrNotFound", err)
	}
	if _, _, err := other.Reveal(t.Context(), p.ID); err == nil {
		t.Error("Reveal with another KEK succeeded")
	}
	if _, err := New(st, nil, testSigner(), nil); err == nil {
		t.Error("New without a KEK succeeded")
	}
	if _, err := New(st, testKEK(), pass.Signer{}, nil); err == nil {
		t.Error("New without a pass-signing key succeeded")
	}
}
