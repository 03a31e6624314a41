-- Crypto-shredding and the audit trail.
-- tag: HMAC(day key, pseudonym), the lookup tag of a check-in (its day's
-- partition is dropped and the day key destroyed after 28 days).
ALTER TABLE checkins ADD COLUMN tag bytea NOT NULL DEFAULT '\x'::bytea;

CREATE TABLE audit (
	id     bigserial PRIMARY KEY,
	time   timestamptz NOT NULL,
	kind   text NOT NULL,
	detail text NOT NULL
);
