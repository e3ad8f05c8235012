-- The erasure now reads a record's messages once, in the DELETE that removes them, and takes the media keys
-- from what it returned, so the partial index of messages that carry media has no reader left. Dropping it
-- spares every message insert and update its upkeep.
drop index messages_with_media_idx;
