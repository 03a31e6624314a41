-- 0017: the day-key ratchet the store is bound to (store.Retention.BindDayKeys):
-- the fingerprint of the ratchet that seals its check-ins, so that a central
-- started with another DATA/daykeys is refused instead of sealing check-ins
-- no other central can read. One row at most.

CREATE TABLE daykeys_binding (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    fingerprint bytea NOT NULL CHECK (length(fingerprint) = 32)
);
