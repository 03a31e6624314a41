-- The transparency log (package ledger): leaves, their tlog stored hashes
-- by storage index, the batch index of receipts, the signed checkpoints.
-- ledger_head holds the size; its one row is locked by every append, so
-- appends are serialized.
CREATE TABLE ledger_head (
	one  boolean PRIMARY KEY DEFAULT true CHECK (one),
	size bigint NOT NULL
);
INSERT INTO ledger_head (one, size) VALUES (true, 0);

CREATE TABLE ledger_leaves (
	idx  bigint PRIMARY KEY,
	leaf bytea NOT NULL
);

CREATE TABLE ledger_hashes (
	idx  bigint PRIMARY KEY,
	hash bytea NOT NULL
);

-- The records a batch leaf stored: first_seq to last_seq of device.
CREATE TABLE ledger_batches (
	device    bytea NOT NULL,
	last_seq  bigint NOT NULL,
	idx       bigint NOT NULL,
	first_seq bigint NOT NULL,
	PRIMARY KEY (device, last_seq, idx)
);

CREATE TABLE ledger_checkpoints (
	id   bigserial PRIMARY KEY,
	size bigint NOT NULL,
	time timestamptz NOT NULL,
	note bytea NOT NULL
);
