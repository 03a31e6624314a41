-- 0009: quarantine entries under retention. Each entry belongs to a KST day
-- (day) and is deleted with it (DropQuarantine); its payload is sealed by
-- sync/ingest under that day's key. sum and size keep the SHA-256 and the
-- length of the message as received, first_seq and last_seq the sequence
-- range it claims.
--
-- Entries made before this migration kept their payload sealed to the
-- province's key, forever: they get the day they were received, their hash
-- and size, and their payload is cleared.
ALTER TABLE quarantine
    ADD COLUMN day date,
    ADD COLUMN first_seq bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_seq bigint NOT NULL DEFAULT 0,
    ADD COLUMN sum bytea NOT NULL DEFAULT '\x'::bytea,
    ADD COLUMN size integer NOT NULL DEFAULT 0;
UPDATE quarantine SET
    day = ((received AT TIME ZONE 'UTC') + interval '9 hours')::date,
    sum = sha256(payload),
    size = length(payload),
    payload = '\x'::bytea;
ALTER TABLE quarantine ALTER COLUMN day SET NOT NULL;
CREATE INDEX quarantine_day ON quarantine (day);
