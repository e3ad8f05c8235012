-- Sessions of the console's own: the cookie carries a random token and this table only its SHA-256, so one
-- indexed join reads who is asking together with their current role and grants (no serialized session blob).
-- Signing everyone out once is the price of the switch.
drop table sessions;
create table sessions (
    token_hash bytea primary key,
    user_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index sessions_user_idx on sessions (user_id);
create index sessions_expires_idx on sessions (expires_at);
