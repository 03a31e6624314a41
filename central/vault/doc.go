// Package vault is the province's identity vault: visitors registered with
// a name and a phone number, kept encrypted under the province's
// key-encryption key (KEK) and found by a keyed hash of the number, the
// number never stored in clear; their passes; and the destruction of
// identities unused for 8 weeks.
//
// # Phone numbers
//
// [NormalizePhone] turns a Korean mobile number as people write it
// ("010-1234-5678", "+82 10-1234-5678", …), or a mobile number from abroad
// with its country code ("+86 138 0013 8000"), into E.164
// ("+821012345678") and refuses anything else. The E.164 form is what the blind index hashes
// and what the sealed identity holds, so every way of writing a number
// finds the same person.
//
// # Keys and formats
//
// Two keys are derived from the KEK with HKDF-SHA256, one per use:
//
//   - the blind-index key: the index of a person is HMAC-SHA256(key, E.164
//     number), unique in the store, so that a number registers once and is
//     found again, by no one without the KEK;
//   - the sealing key: the identity (E.164 number and name, padded to a
//     fixed length) is sealed with XChaCha20-Poly1305 under a random
//     24-byte nonce, with the person id in the associated data.
//
// The store (store.Vault) holds the person id, the pseudonym, the index,
// the sealed identity, the times of creation and last use, and the card
// serials: nothing that names a person without the KEK.
//
// # People and passes
//
// A person has an id ("p-" and 16 hex digits, for the admin API) and a
// random 128-bit pseudonym, the one their passes carry (package pass). An
// app pass has serial 0. Card passes get serials 1, 2, 3, … per person; a
// new card revokes the earlier ones, and [Vault.RevokeCard] revokes a lost
// card. Both return the revocation ids that the caller publishes to kiosks
// (central's revocation KV bucket): the vault itself does not talk to NATS.
//
// # Retention
//
// Registering, issuing a pass and [Vault.Touch] (for a check-in of the
// person's pseudonym) record a use. [Vault.DestroyUnused] deletes the
// sealed identity, index, pseudonym and cards of every person unused for
// [Retention] (8 weeks), leaving a tombstone of the id. Their passes keep
// verifying at kiosks until they expire, but nothing links them to a
// person any more.
//
// Deleted rows can outlive the deletion in the store's free pages (bbolt),
// in dead row versions, WAL and backups (PostgreSQL); they hold the
// identity sealed under the KEK, so whoever holds both a copy and the KEK
// can still open them.
package vault
