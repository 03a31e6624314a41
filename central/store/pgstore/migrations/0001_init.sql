-- 0001: the central store's first schema. See the package documentation of
-- pgstore for what each table holds and why ids are bytea.

CREATE TABLE venues (
    id      bytea PRIMARY KEY CHECK (length(id) > 0),
    name    text NOT NULL,
    created timestamptz NOT NULL
);

CREATE TABLE tokens (
    hash    bytea PRIMARY KEY CHECK (length(hash) = 32),
    venue   bytea NOT NULL,
    expires timestamptz NOT NULL,
    used    boolean NOT NULL DEFAULT false
);

CREATE TABLE devices (
    id         bytea PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    venue      bytea NOT NULL,
    public_key bytea NOT NULL,
    nkey       bytea NOT NULL,
    enrolled   timestamptz NOT NULL
);

CREATE TABLE device_states (
    device      bytea PRIMARY KEY REFERENCES devices (id),
    last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_hash   bytea NOT NULL CHECK (length(last_hash) = 32),
    records     bigint NOT NULL DEFAULT 0,
    quarantined bigint NOT NULL DEFAULT 0,
    breaks      bigint NOT NULL DEFAULT 0
);

-- The earliest known start of each boot of a device; start_ns is the
-- nanoseconds below start's microseconds.
CREATE TABLE boots (
    device   bytea NOT NULL REFERENCES devices (id),
    boot     bytea NOT NULL CHECK (length(boot) = 16),
    start    timestamptz NOT NULL,
    start_ns smallint NOT NULL CHECK (start_ns BETWEEN 0 AND 999),
    PRIMARY KEY (device, boot)
);

CREATE TABLE quarantine (
    id       bigserial PRIMARY KEY,
    device   bytea NOT NULL,
    subject  text NOT NULL,
    reason   text NOT NULL,
    detail   text NOT NULL,
    received timestamptz NOT NULL,
    payload  bytea NOT NULL
);
CREATE INDEX quarantine_device_id ON quarantine (device, id);

-- Check-ins, one partition per KST calendar day of the corrected time,
-- created on demand by Ingest (checkins_YYYYMMDD) and dropped whole by
-- DropDay. (device, seq) is unique across partitions because Ingest
-- serialises each device on its device_states row and looks the sequence
-- numbers up in every partition before it inserts.
CREATE TABLE checkins (
    device      bytea NOT NULL,
    seq         bigint NOT NULL,
    day         date NOT NULL,
    venue       bytea NOT NULL,
    kind        smallint NOT NULL,
    quality     smallint NOT NULL,
    flags       bigint NOT NULL,
    raw_wall    timestamptz NOT NULL,
    raw_wall_ns smallint NOT NULL,
    mono        bigint NOT NULL,
    boot        bytea NOT NULL,
    time        timestamptz NOT NULL,
    time_ns     smallint NOT NULL,
    received    timestamptz NOT NULL,
    hash        bytea NOT NULL,
    sealed      bytea NOT NULL,
    PRIMARY KEY (device, seq, day)
) PARTITION BY RANGE (day);

-- Days whose partition DropDay dropped: Ingest never stores a record of
-- such a day again.
CREATE TABLE dropped_days (
    day        date PRIMARY KEY,
    dropped_at timestamptz NOT NULL DEFAULT now()
);
