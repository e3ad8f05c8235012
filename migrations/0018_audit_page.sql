-- The /audit page (DESIGN.md, "R2: Evidence"): its filters, the export it records, and the chain status it shows.

-- Two more events: exporting the audit log, and a wrong password entered by a signed-in user to confirm an
-- irreversible step (an erasure, an approval), which counts as a failed sign-in too.
alter table audit_log drop constraint audit_log_action_check;
alter table audit_log add constraint audit_log_action_check check (action in (
    'signed_in', 'sign_in_failed', 'signed_out', 'other_sessions_ended', 'user_sessions_ended',
    'customer_data_setting_enabled', 'customer_data_setting_disabled',
    'customer_data_permission_granted', 'customer_data_permission_revoked',
    'erasure_policy_changed',
    'customer_searched', 'customer_viewed',
    'request_created', 'request_scheduled', 'request_awaiting_approval', 'request_approved',
    'request_rejected', 'request_cancelled', 'request_erased', 'request_failed',
    'audit_log_exported', 'password_confirmation_failed'
));

-- The page lists an account's events newest first (by seq, the primary key) and filters them by action, by
-- actor and by date. Searches and page views make most rows, so a filter on a rarer action or on one actor
-- must not walk the whole chain backwards: an index each, ending in seq so a page is an index range in order.
create index audit_log_action_idx on audit_log (account_id, action, seq);
create index audit_log_actor_idx on audit_log (account_id, actor_kind, actor_id, seq);

-- Where each chain was last found intact (the checkpoint): its seq and hash then (the next check recomputes that
-- row and the rows after it), when, and when the whole chain was last recomputed from seq 1. A chain found
-- broken keeps its checkpoint and records its first broken seq and why; the page shows it in red until a full
-- check finds the chain intact, checkpoint included. What this table says is a cache of the verifier's answer,
-- not evidence: `audit verify` recomputes everything from the rows.
create table audit_checks (
    account_id uuid primary key references accounts (id),
    seq bigint not null check (seq >= 0),
    hash bytea not null check (octet_length(hash) = 32),
    checked_at timestamptz not null,
    fully_checked_at timestamptz not null,
    broken_seq bigint,
    fault text,
    constraint audit_checks_broken check ((broken_seq is null) = (fault is null))
);
