-- Faster erasures, with the same guarantees.
--
-- 1. The outbox holds stored-object keys in batches of up to 1,000 per row instead of one row per key: an
--    erasure of a record with 5,000 recordings writes 5 rows, not 5,000.
alter table object_deletions add column object_keys text[];
update object_deletions set object_keys = array[object_key];
alter table object_deletions alter column object_keys set not null;
alter table object_deletions drop column object_key;
alter table object_deletions add constraint object_deletions_batch_size
    check (cardinality(object_keys) between 1 and 1000);

-- 2. Every change to a record's calls and messages (not only a new row or a moved one) now waits for a running
--    erasure of that record. So once the erasure holds the record's row lock, its calls and messages cannot
--    change: it counts them and queues their stored keys in one statement, then deletes them with plain
--    DELETEs, and the receipt and the outbox match what was deleted.
drop trigger calls_refuse_erased on calls;
create trigger calls_refuse_erased before insert or update on calls
    for each row execute function refuse_activity_for_erased_customer();
drop trigger messages_refuse_erased on messages;
create trigger messages_refuse_erased before insert or update on messages
    for each row execute function refuse_activity_for_erased_customer();

-- 3. The messages that carry media, per record: the erasure reads their keys without visiting every message.
create index messages_with_media_idx on messages (account_id, customer_id) where cardinality(media_keys) > 0;
