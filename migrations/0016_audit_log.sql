-- The audit log (DESIGN.md, "R2: Evidence"): `audit_log` replaces `audit_events`. One append-only chain per
-- account: each row's `hash` is SHA-256 of the row before's hash (32 zero bytes for seq 1) followed by the row's
-- canonical bytes, which `evidence::audit_log::canonical_row` defines (and `audit_row_bytes` below builds the same
-- in SQL for the rows moved over from `audit_events`; tests/audit_log.rs checks both agree).

-- No foreign key to users, customers or requests: the log outlives what it names, and must never stop a row
-- elsewhere from being deleted. The account is the chain, so that one stays referenced.
-- `actor_kind` says who acted: a user (`actor_id` their id), an API token (`actor_id` its id; none yet), the
-- console itself (`system`, as the scheduler) or someone not signed in (`anonymous`, a failed sign-in).
-- A person appears only as `subject`, an HMAC-SHA-256 under a key derived from a secret outside the database;
-- `details` holds counts and ids only (an object), never names, emails, phone numbers or other text.
create table audit_log (
    account_id uuid not null references accounts (id),
    seq bigint not null check (seq >= 1),
    at timestamptz not null,
    actor_kind text not null check (actor_kind in ('user', 'token', 'system', 'anonymous')),
    actor_id uuid,
    action text not null check (action in (
        'signed_in', 'sign_in_failed', 'signed_out', 'other_sessions_ended', 'user_sessions_ended',
        'customer_data_setting_enabled', 'customer_data_setting_disabled',
        'customer_data_permission_granted', 'customer_data_permission_revoked',
        'erasure_policy_changed',
        'customer_searched', 'customer_viewed',
        'request_created', 'request_scheduled', 'request_awaiting_approval', 'request_approved',
        'request_rejected', 'request_cancelled', 'request_erased', 'request_failed'
    )),
    target_user_id uuid,
    customer_id uuid,
    request_id uuid,
    subject bytea check (octet_length(subject) = 32),
    details jsonb not null default '{}' check (jsonb_typeof(details) = 'object'),
    prev_hash bytea not null check (octet_length(prev_hash) = 32),
    hash bytea not null check (octet_length(hash) = 32),
    primary key (account_id, seq),
    constraint audit_log_actor_id check ((actor_kind in ('user', 'token')) = (actor_id is not null))
);

-- Each account's chain head: its last seq and hash (0 and zeros before the first row). A writer locks it
-- (`for update`) until its transaction ends, so appends to one account take turns and a chain never forks; the
-- verifier checks that the chain ends where its head says, so rows removed from the end are noticed too.
create table audit_heads (
    account_id uuid primary key references accounts (id),
    seq bigint not null default 0 check (seq >= 0),
    hash bytea not null default decode(repeat('00', 32), 'hex') check (octet_length(hash) = 32)
);

-- Every account has its head from the start, so a writer only ever locks an existing row. `enable always`: the
-- synthetic tenant's bulk load runs as a replica (`session_replication_role`), and still needs a head.
create function audit_heads_for_new_account() returns trigger language plpgsql as $$
begin
    insert into audit_heads (account_id) values (new.id);
    return new;
end $$;
create trigger accounts_audit_head after insert on accounts
    for each row execute function audit_heads_for_new_account();
alter table accounts enable always trigger accounts_audit_head;

-- Append-only: rows are never changed or removed, nor the table emptied. A superuser can still disable the
-- triggers; the hash chain is what shows that happened.
create function audit_log_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only: % is not allowed', tg_op;
end $$;
create trigger audit_log_no_update_or_delete before update or delete on audit_log
    for each row execute function audit_log_refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_refuse_change();

-- The canonical bytes of a row moved over from `audit_events` (an actor user, no customer, request or subject, no
-- details), exactly as `canonical_row` writes them: the encoding's name, then each field; a uuid as 16 bytes, a
-- number as 8 bytes big-endian (`at` in microseconds since 1970), a text as its length in 4 bytes and its UTF-8
-- bytes, an optional field as 0 (absent) or 1 and the field, the details (`{}`) as a length-prefixed string.
create function pg_temp.audit_row_bytes(
    account_id uuid, seq bigint, at timestamptz, actor_id uuid, action text, target_user_id uuid
) returns bytea language sql immutable as $$
    select int4send(34) || convert_to('customer-data-console audit_log v1', 'UTF8')
        || uuid_send(account_id)
        || int8send(seq)
        || int8send((extract(epoch from at) * 1000000)::bigint)
        || int4send(4) || convert_to('user', 'UTF8')
        || '\x01'::bytea || uuid_send(actor_id)
        || int4send(octet_length(action)) || convert_to(action, 'UTF8')
        || case when target_user_id is null then '\x00'::bytea else '\x01'::bytea || uuid_send(target_user_id) end
        || '\x00'::bytea
        || '\x00'::bytea
        || '\x00'::bytea
        || int4send(2) || convert_to('{}', 'UTF8')
$$;

-- The old events, each account's in the order they happened, become the first rows of its chain.
create temporary table audit_moved on commit drop as
    select account_id, row_number() over (partition by account_id order by occurred_at, id) as seq,
           date_trunc('microseconds', occurred_at) as at, actor_id, action, target_user_id
    from audit_events;
alter table audit_moved add primary key (account_id, seq);

insert into audit_log (account_id, seq, at, actor_kind, actor_id, action, target_user_id, prev_hash, hash)
with recursive chain as (
    select m.*, decode(repeat('00', 32), 'hex') as prev_hash,
           sha256(decode(repeat('00', 32), 'hex')
                  || pg_temp.audit_row_bytes(m.account_id, m.seq, m.at, m.actor_id, m.action, m.target_user_id)) as hash
    from audit_moved m where m.seq = 1
    union all
    select m.*, c.hash,
           sha256(c.hash || pg_temp.audit_row_bytes(m.account_id, m.seq, m.at, m.actor_id, m.action, m.target_user_id))
    from chain c join audit_moved m on m.account_id = c.account_id and m.seq = c.seq + 1
)
select account_id, seq, at, 'user', actor_id, action, target_user_id, prev_hash, hash from chain;

insert into audit_heads (account_id, seq, hash)
select a.id, coalesce(last.seq, 0), coalesce(last.hash, decode(repeat('00', 32), 'hex'))
from accounts a
left join lateral (
    select seq, hash from audit_log l where l.account_id = a.id order by seq desc limit 1
) last on true;

-- Nothing writes `audit_events` any more: its rows are all in the chain.
drop table audit_events;
drop function pg_temp.audit_row_bytes(uuid, bigint, timestamptz, uuid, text, uuid);
