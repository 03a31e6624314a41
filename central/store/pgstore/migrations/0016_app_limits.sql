-- 0016: the visitor app's rate limits (store.Apps.TakeAppLimit), shared by
-- every central on the database and kept across restarts: one token bucket
-- per key (a keyed hash of a phone number or a client address, never the
-- value itself), stored as the time it is full again.

CREATE TABLE app_limits (
    key     bytea PRIMARY KEY CHECK (length(key) = 32),
    full_at timestamptz NOT NULL
);
