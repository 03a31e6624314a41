package pgstore

// The identity vault's tables (migrations/0002_vault.sql):
//
//	persons            id → pseudonym (unique), blind_index (unique), sealed, created, last_used
//	person_cards       (person, serial) → issued, revoked; deleted with the person
//	person_tombstones  id → destroyed: what is left of a destroyed person
//
// Each method is one statement, or one READ COMMITTED transaction that
// locks the person's row first (AddCard), so that a person's cards are
// numbered one at a time. DestroyPersons deletes rows; PostgreSQL keeps
// their old versions until VACUUM and in its WAL and backups (sealed
// under a key that the database does not hold).

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/anshim/anshim/central/store"
)

// The unique constraints of persons, named in 0002_vault.sql, and what
// store.ExistsError calls them.
var personConstraints = map[string]string{
	"persons_pkey":            "id",
	"persons_pseudonym_key":   "pseudonym",
	"persons_blind_index_key": "index",
}

// AddPerson implements store.Vault, in one statement.
func (s *Store) AddPerson(ctx context.Context, p store.Person) error {
	switch {
	case p.ID == "" || len(p.ID) > 64:
		return fmt.Errorf("pgstore: add person: id of %d bytes, want 1 to 64", len(p.ID))
	case len(p.Sealed) == 0:
		return fmt.Errorf("pgstore: add person %s: empty sealed identity", p.ID)
	case p.Created.IsZero() || p.LastUsed.IsZero():
		return fmt.Errorf("pgstore: add person %s: created or last used time not set", p.ID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: add person %s: %w", p.ID, err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO persons (id, pseudonym, blind_index, sealed, created, last_used)
		SELECT $1, $2, $3, $4, $5, $6
		WHERE NOT EXISTS (SELECT 1 FROM person_tombstones WHERE id = $1)`,
		[]byte(p.ID), p.Pseudonym[:], p.Index[:], p.Sealed, p.Created, p.LastUsed)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "23505" && personConstraints[pe.ConstraintName] != "":
		err = &store.ExistsError{Field: personConstraints[pe.ConstraintName]}
	case err == nil && tag.RowsAffected() == 0:
		err = &store.ExistsError{Field: "id"} // a destroyed person's
	}
	if err != nil {
		return fmt.Errorf("pgstore: add person %s: %w", p.ID, err)
	}
	return nil
}

// selectPerson reads a person and their cards in one statement, so from
// one snapshot. Append a WHERE clause on p.
const selectPerson = `SELECT p.id, p.pseudonym, p.blind_index, p.sealed, p.created, p.last_used,
		coalesce((SELECT array_agg(c.serial ORDER BY c.serial) FROM person_cards c WHERE c.person = p.id), '{}'),
		coalesce((SELECT array_agg(c.issued ORDER BY c.serial) FROM person_cards c WHERE c.person = p.id), '{}'),
		coalesce((SELECT array_agg(c.revoked ORDER BY c.serial) FROM person_cards c WHERE c.person = p.id), '{}')
	FROM persons p `

// person reads the person that where selects: store.ErrNotFound if there
// is none.
func (s *Store) person(ctx context.Context, where string, arg []byte) (store.Person, error) {
	if err := ctx.Err(); err != nil {
		return store.Person{}, err
	}
	var (
		p                    store.Person
		id, pseudonym, index []byte
		serials              []int64
		issued               []time.Time
		revoked              []bool
	)
	err := s.pool.QueryRow(ctx, selectPerson+where, arg).Scan(&id, &pseudonym, &index, &p.Sealed, &p.Created, &p.LastUsed, &serials, &issued, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Person{}, store.ErrNotFound
	} else if err != nil {
		return store.Person{}, err
	}
	if copy(p.Pseudonym[:], pseudonym) != len(p.Pseudonym) || copy(p.Index[:], index) != len(p.Index) ||
		len(issued) != len(serials) || len(revoked) != len(serials) {
		return store.Person{}, errors.New("corrupt row")
	}
	p.ID, p.Created, p.LastUsed = string(id), p.Created.UTC(), p.LastUsed.UTC()
	for i := range serials {
		p.Cards = append(p.Cards, store.Card{Serial: uint32(serials[i]), Issued: issued[i].UTC(), Revoked: revoked[i]})
	}
	return p, nil
}

// Person implements store.Vault.
func (s *Store) Person(ctx context.Context, id string) (store.Person, error) {
	p, err := s.person(ctx, "WHERE p.id = $1", []byte(id))
	if errors.Is(err, store.ErrNotFound) {
		err = s.notFound(ctx, id)
	}
	if err != nil {
		return store.Person{}, fmt.Errorf("pgstore: person %s: %w", id, err)
	}
	return p, nil
}

// PersonByIndex implements store.Vault.
func (s *Store) PersonByIndex(ctx context.Context, index [32]byte) (store.Person, error) {
	p, err := s.person(ctx, "WHERE p.blind_index = $1", index[:])
	if err != nil {
		return store.Person{}, fmt.Errorf("pgstore: person by blind index: %w", err)
	}
	return p, nil
}

// PersonByPseudonym implements store.Vault.
func (s *Store) PersonByPseudonym(ctx context.Context, pseudonym [16]byte) (store.Person, error) {
	p, err := s.person(ctx, "WHERE p.pseudonym = $1", pseudonym[:])
	if err != nil {
		return store.Person{}, fmt.Errorf("pgstore: person by pseudonym: %w", err)
	}
	return p, nil
}

// notFound returns store.ErrDestroyed if the id has a tombstone,
// store.ErrNotFound if not.
func (s *Store) notFound(ctx context.Context, id string) error {
	var gone bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM person_tombstones WHERE id = $1)", []byte(id)).Scan(&gone); err != nil {
		return err
	}
	if gone {
		return store.ErrDestroyed
	}
	return store.ErrNotFound
}

// TouchPerson implements store.Vault, in one statement.
func (s *Store) TouchPerson(ctx context.Context, id string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: touch person %s: %w", id, err)
	}
	tag, err := s.pool.Exec(ctx, "UPDATE persons SET last_used = greatest(last_used, $2) WHERE id = $1", []byte(id), now)
	if err == nil && tag.RowsAffected() == 0 {
		err = s.notFound(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("pgstore: touch person %s: %w", id, err)
	}
	return nil
}

// AddCard implements store.Vault: one transaction, after locking the
// person's row.
func (s *Store) AddCard(ctx context.Context, id string, now time.Time) (store.Card, []store.Card, error) {
	var card store.Card
	var earlier []store.Card
	err := s.update(ctx, func(tx pgx.Tx) error {
		card, earlier = store.Card{Serial: 1, Issued: now}, nil
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM persons WHERE id = $1 FOR UPDATE", []byte(id)).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.notFound(ctx, id)
		} else if err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, "SELECT serial, issued, revoked FROM person_cards WHERE person = $1 ORDER BY serial", []byte(id))
		earlier, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Card, error) {
			var c store.Card
			var serial int64
			err := row.Scan(&serial, &c.Issued, &c.Revoked)
			c.Serial, c.Issued = uint32(serial), c.Issued.UTC()
			return c, err
		})
		if err != nil {
			return err
		}
		if n := len(earlier); n > 0 {
			if earlier[n-1].Serial == math.MaxUint32 {
				return errors.New("no card serial left")
			}
			card.Serial = earlier[n-1].Serial + 1
		}
		b := &pgx.Batch{}
		b.Queue("UPDATE person_cards SET revoked = true WHERE person = $1 AND NOT revoked", []byte(id))
		b.Queue("INSERT INTO person_cards (person, serial, issued) VALUES ($1, $2, $3)", []byte(id), int64(card.Serial), now)
		b.Queue("UPDATE persons SET last_used = greatest(last_used, $2) WHERE id = $1", []byte(id), now)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return store.Card{}, nil, fmt.Errorf("pgstore: add card of person %s: %w", id, err)
	}
	return card, nilIfEmpty(earlier), nil
}

// RevokeCard implements store.Vault, in one statement.
func (s *Store) RevokeCard(ctx context.Context, id string, serial uint32) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: revoke card of person %s: %w", id, err)
	}
	tag, err := s.pool.Exec(ctx, "UPDATE person_cards SET revoked = true WHERE person = $1 AND serial = $2", []byte(id), int64(serial))
	if err == nil && tag.RowsAffected() == 0 {
		var exists bool
		if err = s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM persons WHERE id = $1)", []byte(id)).Scan(&exists); err == nil {
			if exists {
				err = fmt.Errorf("card %d: %w", serial, store.ErrNotFound)
			} else {
				err = s.notFound(ctx, id)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: revoke card of person %s: %w", id, err)
	}
	return nil
}

// DestroyPersons implements store.Vault, in one statement: the persons'
// rows, their cards (by the foreign key's cascade) and the new tombstones.
// Under READ COMMITTED a person touched concurrently is checked again
// against the cutoff after the touch commits.
func (s *Store) DestroyPersons(ctx context.Context, cutoff, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("pgstore: destroy persons: %w", err)
	}
	var n int64
	err := s.pool.QueryRow(ctx, `WITH d AS (DELETE FROM persons WHERE last_used <= $1 RETURNING id),
			t AS (INSERT INTO person_tombstones (id, destroyed) SELECT id, $2 FROM d)
		SELECT count(*) FROM d`, cutoff, now).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pgstore: destroy persons unused since %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	return int(n), nil
}
