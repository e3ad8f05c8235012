-- The outbox is a work queue that an erasure fills with one row per stored object (thousands for a busy
-- record) inside its transaction. Its foreign keys cost one check per row at commit and protect nothing the
-- erasure transaction does not already guarantee (it writes the erasures row and the outbox rows together),
-- so they go, and with them the index that only served the account foreign key.
alter table object_deletions drop constraint object_deletions_erasure_id_fkey;
alter table object_deletions drop constraint object_deletions_account_id_fkey;
drop index object_deletions_account_idx;
