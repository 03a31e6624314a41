package vault

import (
	"context"
	"crypto/ed25519"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/pass"
)

// Retention is how long an identity is kept unused: 8 weeks, as in Jeju's
// Safe Code.
const Retention = 8 * 7 * 24 * time.Hour

// DefaultPassLifetime is how long an issued pass is valid by default.
const DefaultPassLifetime = 365 * 24 * time.Hour

// Options configure New. A nil *Options means the defaults.
type Options struct {
	// Now is the clock of Register (default time.Now). The other methods
	// take the time as an argument.
	Now func() time.Time
	// Rand is the source of person ids, pseudonyms and nonces (default
	// crypto/rand). Only tests set it.
	Rand io.Reader
	// PassLifetime is how long an issued pass is valid (default
	// DefaultPassLifetime).
	PassLifetime time.Duration
}

// Vault is the identity vault. Its methods are safe for concurrent use as
// far as its store's are.
type Vault struct {
	store    store.Vault
	keys     *keys
	signer   pass.Signer
	now      func() time.Time
	rand     io.Reader
	lifetime time.Duration
}

// New returns the vault on st, with keys derived from the province's
// key-encryption key kek, issuing passes with signer.
func New(st store.Vault, kek *[32]byte, signer pass.Signer, opts *Options) (*Vault, error) {
	if st == nil {
		return nil, errors.New("vault: no store")
	}
	k, err := deriveKeys(kek)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if len(signer.Private) != ed25519.PrivateKeySize {
		return nil, errors.New("vault: no pass-signing key")
	}
	v := &Vault{store: st, keys: k, signer: signer, now: time.Now, rand: cryptorand.Reader, lifetime: DefaultPassLifetime}
	if opts != nil {
		if opts.Now != nil {
			v.now = opts.Now
		}
		if opts.Rand != nil {
			v.rand = opts.Rand
		}
		if opts.PassLifetime > 0 {
			v.lifetime = opts.PassLifetime
		}
	}
	return v, nil
}

// Person is a registered person, without their identity.
type Person struct {
	ID string
	// Pseudonym is what the person's passes carry. It links their
	// check-ins: show it to no one who does not need it.
	Pseudonym [16]byte
	Created   time.Time
	LastUsed  time.Time
	Cards     []store.Card
}

func personOf(p store.Person) Person {
	return Person{ID: p.ID, Pseudonym: p.Pseudonym, Created: p.Created, LastUsed: p.LastUsed, Cards: p.Cards}
}

// Register registers a person with their name and phone number (see
// [NormalizePhone] for the formats) and returns them with a new id and
// pseudonym. It refuses bad input, and a phone number that is registered
// already, with a *FieldError (the latter wrapping store.ErrExists), and
// then stores nothing.
func (v *Vault) Register(ctx context.Context, name, phone string) (Person, error) {
	name, err := checkName(name)
	if err != nil {
		return Person{}, err
	}
	e164, err := NormalizePhone(phone)
	if err != nil {
		return Person{}, err
	}
	now := v.now().UTC()
	p := store.Person{Index: v.keys.blindIndex(e164), Created: now, LastUsed: now}
	// A new id or pseudonym that is taken (a chance of 2⁻⁶⁴ at most) is
	// drawn again.
	for range 3 {
		var id [8]byte
		if _, err := io.ReadFull(v.rand, id[:]); err != nil {
			return Person{}, fmt.Errorf("register: %w", err)
		}
		if _, err := io.ReadFull(v.rand, p.Pseudonym[:]); err != nil {
			return Person{}, fmt.Errorf("register: %w", err)
		}
		p.ID = "p-" + hex.EncodeToString(id[:])
		if p.Sealed, err = v.keys.sealIdentity(v.rand, p.ID, name, e164); err != nil {
			return Person{}, fmt.Errorf("register: %w", err)
		}
		err = v.store.AddPerson(ctx, p)
		var ee *store.ExistsError
		if errors.As(err, &ee) && ee.Field == "index" {
			dup, lerr := v.store.PersonByIndex(ctx, p.Index)
			if lerr != nil { // destroyed meanwhile
				return Person{}, &FieldError{Field: "phone", Reason: "registered already", Err: store.ErrExists}
			}
			return Person{}, &FieldError{Field: "phone", Reason: "registered already, as person " + dup.ID, Err: store.ErrExists}
		}
		if !errors.Is(err, store.ErrExists) {
			break
		}
	}
	if err != nil {
		return Person{}, fmt.Errorf("register: %w", err)
	}
	return personOf(p), nil
}

// Lookup returns the person registered with the phone number
// ([ErrNotRegistered], which matches store.ErrNotFound, if there is none).
func (v *Vault) Lookup(ctx context.Context, phone string) (Person, error) {
	e164, err := NormalizePhone(phone)
	if err != nil {
		return Person{}, err
	}
	p, err := v.store.PersonByIndex(ctx, v.keys.blindIndex(e164))
	if errors.Is(err, store.ErrNotFound) {
		return Person{}, ErrNotRegistered
	}
	if err != nil {
		return Person{}, fmt.Errorf("look up: %w", err)
	}
	return personOf(p), nil
}

// ErrNotRegistered is Lookup's answer for a phone number no visitor is
// registered with (or whose identity was destroyed). It matches
// store.ErrNotFound, and says so without the store's words (a blind
// index is no concern of the caller's).
var ErrNotRegistered error = notRegisteredError{}

type notRegisteredError struct{}

func (notRegisteredError) Error() string { return "no visitor is registered with this phone number" }

func (notRegisteredError) Is(target error) bool { return target == store.ErrNotFound }

// Person returns the person with the id (store.ErrNotFound, or
// store.ErrDestroyed for a person whose identity was destroyed).
func (v *Vault) Person(ctx context.Context, id string) (Person, error) {
	p, err := v.store.Person(ctx, id)
	if err != nil {
		return Person{}, err
	}
	return personOf(p), nil
}

// Reveal opens the person's sealed identity and returns their name and
// phone number (E.164). It is for the audited reveal of a case's
// contacts: its caller records who asked, for whom and why.
func (v *Vault) Reveal(ctx context.Context, id string) (name, phone string, err error) {
	p, err := v.store.Person(ctx, id)
	if err != nil {
		return "", "", err
	}
	name, phone, err = v.keys.openIdentity(p.ID, p.Sealed)
	if err != nil {
		return "", "", fmt.Errorf("person %s: %w", id, err)
	}
	return name, phone, nil
}

// CheckName reports whether Register would take name as a person's
// name (a *FieldError for "name" otherwise), so that a caller can refuse
// it before it spends anything.
func CheckName(name string) error {
	_, err := checkName(name)
	return err
}

// Initial returns the first letter of the person's name, which the
// visitor app shows beside their pass: the person's own data, shown to
// their own device session; the name itself never leaves the vault.
func (v *Vault) Initial(ctx context.Context, id string) (string, error) {
	name, _, err := v.Reveal(ctx, id)
	if err != nil {
		return "", err
	}
	for _, r := range name {
		return string(r), nil
	}
	return "", nil
}

// Issued is a pass issued by [Vault.IssuePass].
type Issued struct {
	Text    string // the pass text, for a QR code
	Kind    pass.Kind
	Serial  uint32 // the card serial; 0 for an app pass
	Expires time.Time
	// Revoke are the person's earlier cards, which a new card replaces:
	// publish each to the revocation list (again, for those revoked
	// before, in case that publication failed).
	Revoke []Revocation
}

// Revocation is a revoked card pass to publish to kiosks.
type Revocation struct {
	Serial uint32
	ID     string // the pass's revocation id (see pass.Pass.RevocationID)
	// Before is set when the card was revoked before this call.
	Before bool
}

// revocationID returns the revocation id of the person's card.
func revocationID(pseudonym [16]byte, serial uint32) string {
	p := pass.Pass{Pseudonym: pseudonym, Kind: pass.KindCard, Serial: serial}
	return p.RevocationID()
}

// IssuePass issues a pass of the kind to the person, valid from now (to
// the second) for the vault's pass lifetime, and records the use. A card
// pass gets the person's next card serial and revokes the earlier cards
// (see Issued.Revoke); an app pass has serial 0.
func (v *Vault) IssuePass(ctx context.Context, id string, kind pass.Kind, now time.Time) (Issued, error) {
	if kind != pass.KindApp && kind != pass.KindCard {
		return Issued{}, invalid("kind", "want app or card")
	}
	p, err := v.store.Person(ctx, id)
	if err != nil {
		return Issued{}, fmt.Errorf("issue pass: %w", err)
	}
	issued := now.UTC().Truncate(time.Second)
	pp := pass.Pass{Pseudonym: p.Pseudonym, Kind: kind, Issued: issued, Expires: issued.Add(v.lifetime)}
	out := Issued{Kind: kind, Expires: pp.Expires}
	if kind == pass.KindCard {
		card, earlier, err := v.store.AddCard(ctx, id, now)
		if err != nil {
			return Issued{}, fmt.Errorf("issue pass: %w", err)
		}
		pp.Serial, out.Serial = card.Serial, card.Serial
		for _, c := range earlier {
			out.Revoke = append(out.Revoke, Revocation{Serial: c.Serial, ID: revocationID(p.Pseudonym, c.Serial), Before: c.Revoked})
		}
	} else if err := v.store.TouchPerson(ctx, id, now); err != nil {
		return Issued{}, fmt.Errorf("issue pass: %w", err)
	}
	if out.Text, err = v.signer.Issue(pp); err != nil {
		return Issued{}, err
	}
	return out, nil
}

// AppPass signs the person's app pass of serial (the app server's count
// of the person's app passes, from 1), issued at issued (to the second)
// and valid for the vault's pass lifetime, and records the use. Ed25519
// signs deterministically: the same arguments give the same text, so a
// caller may keep the serial and the time instead of the pass. The
// person's revocation id of it is [AppRevocationID].
func (v *Vault) AppPass(ctx context.Context, id string, serial uint32, issued, now time.Time) (Issued, error) {
	if serial == 0 {
		return Issued{}, invalid("serial", "an app pass's serial counts from 1")
	}
	p, err := v.store.Person(ctx, id)
	if err != nil {
		return Issued{}, fmt.Errorf("app pass: %w", err)
	}
	issued = issued.UTC().Truncate(time.Second)
	pp := pass.Pass{Pseudonym: p.Pseudonym, Kind: pass.KindApp, Serial: serial, Issued: issued, Expires: issued.Add(v.lifetime)}
	if err := v.store.TouchPerson(ctx, id, now); err != nil {
		return Issued{}, fmt.Errorf("app pass: %w", err)
	}
	text, err := v.signer.Issue(pp)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Text: text, Kind: pass.KindApp, Serial: serial, Expires: pp.Expires}, nil
}

// PassLifetime is how long the vault's passes are valid.
func (v *Vault) PassLifetime() time.Duration { return v.lifetime }

// AppRevocationID returns the revocation id of the app pass of serial of
// the person with the pseudonym, to publish to kiosks.
func AppRevocationID(pseudonym [16]byte, serial uint32) string {
	p := pass.Pass{Pseudonym: pseudonym, Kind: pass.KindApp, Serial: serial}
	return p.RevocationID()
}

// RevokeCard revokes a card of the person (a lost card) and returns the
// revocation id to publish to kiosks. Revoking a card twice is not an
// error: it returns the same id, to publish again.
func (v *Vault) RevokeCard(ctx context.Context, id string, serial uint32) (string, error) {
	p, err := v.store.Person(ctx, id)
	if err != nil {
		return "", fmt.Errorf("revoke card: %w", err)
	}
	if err := v.store.RevokeCard(ctx, id, serial); err != nil {
		return "", err // "revoke card of person ID: card N: not found"
	}
	return revocationID(p.Pseudonym, serial), nil
}

// Touch records a use of the person at now: a pass issued, or a check-in
// of their pseudonym ingested. Uses keep the identity from being destroyed.
func (v *Vault) Touch(ctx context.Context, id string, now time.Time) error {
	return v.store.TouchPerson(ctx, id, now)
}

// DestroyUnused destroys the identity of every person unused for maxIdle
// (normally [Retention]) or longer at now: their sealed identity, blind
// index, pseudonym and cards are deleted; a tombstone of the id remains.
// It returns how many it destroyed.
func (v *Vault) DestroyUnused(ctx context.Context, now time.Time, maxIdle time.Duration) (int, error) {
	if maxIdle <= 0 {
		return 0, fmt.Errorf("destroy unused identities: idle time %v", maxIdle)
	}
	return v.store.DestroyPersons(ctx, now.Add(-maxIdle), now)
}
