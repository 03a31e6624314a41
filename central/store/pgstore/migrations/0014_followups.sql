-- 0014: the contacts under follow-up (store.FollowUp) and the
-- notifications sent to them (store.Notification): no identity, no
-- message text, no phone number; the record is the store's JSON.

CREATE TABLE followups (
    case_ref     text NOT NULL,
    pseudonym    bytea NOT NULL,
    investigator text NOT NULL,
    record       jsonb NOT NULL,
    PRIMARY KEY (case_ref, pseudonym)
);

CREATE INDEX followups_investigator ON followups (investigator);

CREATE TABLE notifications (
    id       text PRIMARY KEY,
    case_ref text NOT NULL,
    created  timestamptz NOT NULL,
    record   jsonb NOT NULL
);

CREATE INDEX notifications_case ON notifications (case_ref, created, id);
