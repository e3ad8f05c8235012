-- API tokens for /api/v1 (DESIGN.md, "R2: Public API v1"): a privacy platform or the capture pipeline calls the
-- console with `Authorization: Bearer <secret>`. The secret (256 random bits) is shown once and stored only as its
-- SHA-256: with that much entropy a slow hash adds nothing, and a lookup by hash is one index probe.
-- A token acts only in its account, only within its scopes, only until it expires or is revoked; the rows stay
-- after revocation so the audit log's `actor_id` of a token keeps naming one.
create table api_tokens (
    id uuid primary key,
    account_id uuid not null references accounts (id),
    name text not null check (length(name) between 1 and 100),
    scopes text[] not null check (
        cardinality(scopes) between 1 and 4
        and scopes <@ array['requests:read', 'requests:write', 'audit:read', 'ingest']
    ),
    secret_hash bytea not null unique check (octet_length(secret_hash) = 32),
    -- The Admin who made it; none when it was made from the command line (`create-token`).
    created_by uuid,
    created_at timestamptz not null default now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz,
    foreign key (account_id, created_by) references users (account_id, id)
);
create index api_tokens_account_idx on api_tokens (account_id, created_at desc);

-- Making and revoking a token are events of the account's audit log. From here on the actions the log may hold
-- are rows of `audit_actions` (a later action is one insert, not the whole list again), which `audit_log.action`
-- references in place of its CHECK.
create table audit_actions (action text primary key);
insert into audit_actions (action)
select unnest(array[
    'signed_in', 'sign_in_failed', 'signed_out', 'other_sessions_ended', 'user_sessions_ended',
    'customer_data_setting_enabled', 'customer_data_setting_disabled',
    'customer_data_permission_granted', 'customer_data_permission_revoked',
    'erasure_policy_changed',
    'customer_searched', 'customer_viewed',
    'request_created', 'request_scheduled', 'request_awaiting_approval', 'request_approved',
    'request_rejected', 'request_cancelled', 'request_erased', 'request_failed',
    'audit_log_exported', 'password_confirmation_failed',
    'api_token_created', 'api_token_revoked'
]);
alter table audit_log drop constraint audit_log_action_check;
alter table audit_log add constraint audit_log_action_fkey foreign key (action) references audit_actions (action);
