-- Crypto-shredding: the erasure's transaction queues the destruction of each erased record's data key here;
-- the key worker destroys the key in the keyring (a database of its own) and marks the row. Like the file
-- outbox, no foreign key: the row outlives nothing it points at, and holds no personal data.
create table key_destructions (
    account_id uuid not null references accounts (id),
    customer_id uuid not null,
    queued_at timestamptz not null default now(),
    -- When the key was destroyed (or found never made); null while queued.
    destroyed_at timestamptz,
    -- Whether the record had a data key to destroy.
    had_key boolean,
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    primary key (account_id, customer_id)
);
create index key_destructions_due_idx on key_destructions (next_attempt_at) where destroyed_at is null;
