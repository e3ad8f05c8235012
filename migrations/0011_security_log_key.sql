-- The security event log names an email only by its keyed hash (HMAC-SHA-256), so that equal emails can be
-- followed through the log without the log holding them. The key is the deployment's, not a tenant's (the log
-- is the operator's), so this table has no account_id: one row, 32 random bytes, written by the first server
-- that starts (`insert ... on conflict do nothing`, then read), so every instance and restart uses the same key.
create table security_log_key (
    only_row boolean primary key default true check (only_row),
    key bytea not null check (length(key) = 32)
);
