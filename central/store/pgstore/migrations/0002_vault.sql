-- 0002: the identity vault. The store never holds a name or a phone number:
-- sealed is the identity sealed by central/vault (XChaCha20-Poly1305 under a
-- key derived from the province's KEK) and blind_index an HMAC-SHA256 of the
-- normalised phone number under another key derived from it.

CREATE TABLE persons (
    id          bytea NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    pseudonym   bytea NOT NULL CHECK (length(pseudonym) = 16),
    blind_index bytea NOT NULL CHECK (length(blind_index) = 32),
    sealed      bytea NOT NULL CHECK (length(sealed) > 0),
    created     timestamptz NOT NULL,
    last_used   timestamptz NOT NULL,
    CONSTRAINT persons_pkey PRIMARY KEY (id),
    CONSTRAINT persons_pseudonym_key UNIQUE (pseudonym),
    CONSTRAINT persons_blind_index_key UNIQUE (blind_index)
);
-- DestroyPersons reads the persons unused since a cutoff.
CREATE INDEX persons_last_used ON persons (last_used);

-- Card passes of a person; deleted with the person.
CREATE TABLE person_cards (
    person  bytea NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    serial  bigint NOT NULL CHECK (serial BETWEEN 1 AND 4294967295),
    issued  timestamptz NOT NULL,
    revoked boolean NOT NULL DEFAULT false,
    PRIMARY KEY (person, serial)
);

-- Tombstones of destroyed persons: the id and when, nothing else.
CREATE TABLE person_tombstones (
    id        bytea PRIMARY KEY,
    destroyed timestamptz NOT NULL
);
