-- 0007: a venue's debounce setting (store.Venue.DebounceSeconds), the
-- same-pass window its kiosks apply: 0 is the kiosks' default, negative
-- turns it off. Venues stored before keep 0.

ALTER TABLE venues
    ADD COLUMN debounce_seconds integer NOT NULL DEFAULT 0;
