package store

import (
	"context"
	"time"
)

// Person is a visitor registered in the identity vault, as the store keeps
// it. The store never sees a name or a phone number: the vault (package
// central/vault) seals the identity before it reaches the store and finds
// it again by a keyed hash of the phone number, the blind index.
type Person struct {
	// ID names the person in the admin API (the vault makes "p-" and 16
	// hex digits). 1 to 64 bytes.
	ID string
	// Pseudonym is the person's random 128-bit pseudonym, the one their
	// passes carry. Unique.
	Pseudonym [16]byte
	// Index is the blind index: HMAC-SHA256 of the normalised phone number
	// under a key derived from the KEK. Unique.
	Index [32]byte
	// Sealed is the identity (name, phone number) sealed by the vault:
	// opaque bytes to the store, returned exactly as stored.
	Sealed  []byte
	Created time.Time
	// LastUsed is when the person was last registered, issued a pass or
	// seen at a check-in; identities unused for 8 weeks are destroyed.
	LastUsed time.Time
	// Cards are the person's printed card passes, in serial order.
	Cards []Card
}

// Card is a card pass of a person.
type Card struct {
	// Serial is the card's serial: 1 for the person's first card, one more
	// for each new card.
	Serial  uint32
	Issued  time.Time
	Revoked bool
}

// ExistsError is the error of AddPerson when the person's id, pseudonym or
// blind index is taken. It matches ErrExists.
type ExistsError struct {
	// Field is what is taken: "id" (also the id of a destroyed person),
	// "pseudonym" or "index".
	Field string
}

func (e *ExistsError) Error() string { return "person with this " + e.Field + " " + ErrExists.Error() }

// Is makes errors.Is(err, ErrExists) true.
func (e *ExistsError) Is(target error) bool { return target == ErrExists }

// ErrDestroyed is the error of a lookup by id of a person whose identity
// DestroyPersons destroyed. It matches ErrNotFound.
var ErrDestroyed error = destroyedError{}

type destroyedError struct{}

func (destroyedError) Error() string        { return "identity destroyed" }
func (destroyedError) Is(target error) bool { return target == ErrNotFound }

// Vault is the identity vault's storage: people registered with the
// province, each with a sealed identity found by a blind index, a
// pseudonym, a time of last use and card serials.
//
// Besides the contract of [Store] (every method atomic, durable when it
// returned nil, safe for concurrent use):
//
//   - AddPerson refuses a person whose id, pseudonym or blind index is
//     stored already, or whose id is a destroyed person's, with an
//     *ExistsError naming which (matching ErrExists); it stores nothing
//     then. Two concurrent AddPersons with the same index store one person.
//   - Person, PersonByIndex and PersonByPseudonym return ErrNotFound for a
//     person that is not stored. Person returns ErrDestroyed (matching
//     ErrNotFound) for a destroyed one: only their id is kept, in a
//     tombstone that holds nothing else.
//   - LastUsed never moves backwards: TouchPerson and AddCard keep the
//     later of the stored time and theirs.
//   - AddCard gives the person's next serial, 1 for the first card and the
//     highest serial so far plus one after that (also when earlier cards
//     are revoked, so a serial is never given twice), marks every earlier
//     card revoked and updates LastUsed, together. Concurrent AddCards of a
//     person get different serials.
//   - RevokeCard is idempotent.
//   - DestroyPersons deletes each person last used at or before its cutoff
//     with their sealed identity, index, pseudonym and cards, leaving a
//     tombstone of the id, and returns how many it destroyed. A person
//     touched concurrently is either destroyed or touched, never both.
//   - Times keep at least microseconds.
type Vault interface {
	// AddPerson stores a new person (cards are ignored: a new person has
	// none). Created and LastUsed must be set, Sealed must not be empty.
	AddPerson(ctx context.Context, p Person) error
	// Person returns the person with the id (ErrNotFound, ErrDestroyed).
	Person(ctx context.Context, id string) (Person, error)
	// PersonByIndex returns the person with the blind index (ErrNotFound).
	PersonByIndex(ctx context.Context, index [32]byte) (Person, error)
	// PersonByPseudonym returns the person with the pseudonym
	// (ErrNotFound).
	PersonByPseudonym(ctx context.Context, pseudonym [16]byte) (Person, error)
	// TouchPerson records a use of the person at now (ErrNotFound,
	// ErrDestroyed).
	TouchPerson(ctx context.Context, id string, now time.Time) error
	// AddCard adds the person's next card, issued at now, revokes the
	// earlier ones and touches the person. It returns the new card and the
	// earlier cards as they were before the call (ErrNotFound,
	// ErrDestroyed).
	AddCard(ctx context.Context, id string, now time.Time) (card Card, earlier []Card, err error)
	// RevokeCard marks a card of the person revoked (ErrNotFound if the
	// person or the serial is unknown, ErrDestroyed).
	RevokeCard(ctx context.Context, id string, serial uint32) error
	// DestroyPersons destroys every person last used at or before cutoff,
	// recording now in their tombstones, and returns how many.
	DestroyPersons(ctx context.Context, cutoff, now time.Time) (int, error)
}
