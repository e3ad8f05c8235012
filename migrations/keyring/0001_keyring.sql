-- The keyring: a database of its own (KEYRING_DATABASE_URL), never the data database, so that no dump or
-- snapshot of the data database holds a key. Every key here is wrapped: data keys under their parent node,
-- nodes under theirs, level 1 under the root key, which is in the root file (KEY_ROOT_FILE), outside Postgres.

-- The root key's generation and a value sealed under it, by which a root file is known to belong here.
create table key_root (
    singleton boolean primary key default true check (singleton),
    generation bigint not null check (generation > 0),
    verifier bytea not null,
    rotated_at timestamptz not null default now()
);

-- The nodes of the key tree below the root (see src/server/keys/tree.rs for its shape).
create table key_nodes (
    level smallint not null check (level between 1 and 5),
    position bigint not null check (position >= 0),
    wrapped bytea not null,
    primary key (level, position)
);

-- Leaves are handed out once; a destroyed key's leaf is never used again.
create sequence data_key_leaves as bigint minvalue 0 start 0;

-- One data key per customer record, wrapped under the node above its leaf.
create table data_keys (
    customer_id uuid primary key,
    account_id uuid not null,
    leaf bigint not null unique check (leaf >= 0),
    wrapped bytea not null,
    created_at timestamptz not null default now()
);

-- The erased records whose keys were destroyed (or that never had one), and when: a destruction asked again
-- answers when it happened, and no key is ever made again for such a record.
create table destroyed_keys (
    customer_id uuid primary key,
    destroyed_at timestamptz not null default now(),
    had_key boolean not null,
    root_generation bigint not null
);
