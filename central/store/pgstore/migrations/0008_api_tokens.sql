-- 0008: named API tokens (store.APIToken), and who acted in each audit
-- event, with an investigator's case reference and reason in clear (the
-- ledger leaf holds only their SHA-256). Events stored before name no one.

ALTER TABLE audit
    ADD COLUMN who text NOT NULL DEFAULT '',
    ADD COLUMN case_ref text NOT NULL DEFAULT '',
    ADD COLUMN reason text NOT NULL DEFAULT '';

CREATE TABLE api_tokens (
    name       text PRIMARY KEY,
    role       text NOT NULL,
    hash       bytea NOT NULL CONSTRAINT api_tokens_hash UNIQUE,
    created    timestamptz NOT NULL,
    created_by text NOT NULL,
    revoked    timestamptz -- NULL while valid
);
