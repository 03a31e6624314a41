package store

import (
	"context"
	"time"
)

// APIToken is a named bearer token of the central's HTTP API, one per
// person, until web accounts replace them (an account would take the
// token's name). Only the token's hash is stored.
type APIToken struct {
	// Name names the person in audit events: 2 to 64 of a-z, 0-9, '.',
	// '_' and '-', starting with a letter (the central checks it). Names
	// are never reused, revoked tokens' included.
	Name string `json:"name"`
	Role string `json:"role"` // "admin" or "investigator"
	// Hash is the SHA-256 of the token text.
	Hash      [32]byte  `json:"-"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"` // the account that added it
	// Revoked is when the token was revoked; zero while it is valid.
	Revoked time.Time `json:"revoked,omitzero"`
}

// APITokens stores the named API tokens.
type APITokens interface {
	// AddAPIToken stores a new token. ErrExists when its name is taken,
	// also by a revoked token, or its hash is another token's.
	AddAPIToken(ctx context.Context, t APIToken) error
	// APITokenByHash returns the token whose hash is h, revoked or not
	// (ErrNotFound).
	APITokenByHash(ctx context.Context, h [32]byte) (APIToken, error)
	// APITokens returns every token, revoked ones too, in name order.
	APITokens(ctx context.Context) ([]APIToken, error)
	// RevokeAPIToken sets a token's Revoked to now and returns it as it is
	// after; a token revoked already keeps its time. ErrNotFound for an
	// unknown name.
	RevokeAPIToken(ctx context.Context, name string, now time.Time) (APIToken, error)
}
