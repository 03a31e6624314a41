-- 0011: why a venue has its status (store.Venue.StatusReason), as the
-- reviewer wrote it for the owner: required for a rejected application,
-- optional for a suspension. Venues stored before have none.

ALTER TABLE venues
    ADD COLUMN status_reason text NOT NULL DEFAULT '';
