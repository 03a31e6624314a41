-- 0003: the venue registry. A venue's registration details and status,
-- checked by central/registry before they reach the store (which keeps
-- them as given, as boltstore does); business numbers are unique among the
-- venues that have one. Venues stored before this migration keep zero
-- values, as boltstore reads its older records: no business number (''),
-- status '' (registry.StatusNone) and updated at Go's zero time.

ALTER TABLE venues
    ADD COLUMN business_number text NOT NULL DEFAULT '',
    ADD COLUMN address         text NOT NULL DEFAULT '',
    ADD COLUMN category        text NOT NULL DEFAULT '',
    ADD COLUMN default_stay    integer NOT NULL DEFAULT 0,
    ADD COLUMN lat             double precision NOT NULL DEFAULT 0,
    ADD COLUMN lon             double precision NOT NULL DEFAULT 0,
    ADD COLUMN owner_phone     text NOT NULL DEFAULT '',
    ADD COLUMN status          text NOT NULL DEFAULT '',
    ADD COLUMN updated         timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00';

CREATE UNIQUE INDEX venues_business_number ON venues (business_number)
    WHERE business_number <> '';
