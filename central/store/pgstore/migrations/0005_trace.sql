-- Contact tracing (store.Tracing): check-ins of a venue in a time range,
-- and a person's check-ins of a day by their lookup tag. Indexes on the
-- partitioned table are made on every day partition, present and future.
CREATE INDEX checkins_venue_time ON checkins (venue, time);
CREATE INDEX checkins_tag ON checkins (tag);
