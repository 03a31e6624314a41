-- 0015: the visitor app (store.Apps): one-time codes and device sessions
-- stored only as keyed hashes or SHA-256, the app account of a vault
-- person (consent version, current app pass serial), inbox notices and
-- check-in receipts (no pseudonym: a keyed hash of it and the app's
-- per-scan id).

CREATE TABLE app_codes (
    phone   bytea PRIMARY KEY CHECK (length(phone) = 32),
    hash    bytea NOT NULL CHECK (length(hash) = 32),
    consent text NOT NULL,
    lang    text NOT NULL,
    sent    timestamptz NOT NULL,
    expires timestamptz NOT NULL,
    tries   integer NOT NULL
);

CREATE TABLE app_accounts (
    person text PRIMARY KEY,
    record jsonb NOT NULL
);

CREATE TABLE app_sessions (
    hash      bytea PRIMARY KEY CHECK (length(hash) = 32),
    person    text NOT NULL,
    created   timestamptz NOT NULL,
    last_used timestamptz NOT NULL,
    expires   timestamptz NOT NULL
);

CREATE INDEX app_sessions_person ON app_sessions (person);

CREATE TABLE app_notices (
    person text NOT NULL,
    id     text NOT NULL,
    sent   timestamptz NOT NULL,
    record jsonb NOT NULL,
    PRIMARY KEY (person, id)
);

CREATE INDEX app_notices_sent ON app_notices (sent);

CREATE TABLE app_receipts (
    client  bytea PRIMARY KEY CHECK (length(client) = 32),
    device  text NOT NULL,
    seq     bigint NOT NULL,
    time    timestamptz NOT NULL,
    record  jsonb NOT NULL
);

CREATE INDEX app_receipts_at ON app_receipts (device, seq);
CREATE INDEX app_receipts_time ON app_receipts (time);
