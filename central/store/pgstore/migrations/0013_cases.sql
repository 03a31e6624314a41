-- 0013: the investigators' console's cases (store.Case) and the traces
-- saved with them (store.CaseTrace), re-opened while their check-ins are
-- kept.

CREATE TABLE cases (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref    text NOT NULL,
    opener text NOT NULL,
    opened timestamptz NOT NULL,
    closed timestamptz,
    closer text NOT NULL DEFAULT ''
);

CREATE INDEX cases_open ON cases (id) WHERE closed IS NULL;

CREATE TABLE case_traces (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id      text NOT NULL UNIQUE,
    case_id bigint NOT NULL REFERENCES cases (id),
    who     text NOT NULL,
    created timestamptz NOT NULL,
    params  bytea NOT NULL
);

CREATE INDEX case_traces_case ON case_traces (case_id, seq);
