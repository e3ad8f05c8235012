-- The whole data model of DESIGN.md. Every tenant table carries account_id; composite foreign keys
-- (account_id, x_id) make cross-tenant references impossible, not just unlikely.

create table accounts (
    id uuid primary key default gen_random_uuid(),
    name text not null,
    -- Off by default: no one can touch customer data until an Admin turns this on.
    manage_customer_data boolean not null default false,
    created_at timestamptz not null default now()
);

create table users (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts (id),
    name text not null check (length(name) between 1 and 200),
    email text not null check (length(email) between 3 and 320),
    -- Salesforce User ids start with 005; stored in the 18-character form.
    salesforce_id text check (salesforce_id ~ '^005[0-9A-Za-z]{15}$'),
    role text not null check (role in ('admin', 'agent')),
    manage_customer_data boolean not null default false,
    password_hash text not null,
    created_at timestamptz not null default now(),
    unique (account_id, id),
    -- Only Admins can hold the permission; demoting an Admin must clear it in the same statement.
    constraint users_permission_only_for_admins check (role = 'admin' or not manage_customer_data)
);
-- Sign-in is by email across all accounts, so emails are unique everywhere, ignoring case.
create unique index users_email_key on users (lower(email));
create unique index users_salesforce_id_key on users (account_id, salesforce_id);
create index users_account_name_idx on users (account_id, lower(name) text_pattern_ops);

-- The local mirror of the tenant's Salesforce records. Salesforce owns these fields; an erasure keeps them.
create table customers (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts (id),
    salesforce_id text not null check (salesforce_id ~ '^[0-9A-Za-z]{18}$'),
    object_type text not null check (object_type in ('Lead', 'Contact', 'Account', 'Opportunity')),
    name text not null,
    email text,
    phone text,
    erased_at timestamptz,
    erased_by uuid,
    unique (account_id, salesforce_id),
    unique (account_id, id),
    foreign key (account_id, erased_by) references users (account_id, id),
    constraint customers_erasure_complete check ((erased_at is null) = (erased_by is null))
);
create index customers_account_email_idx on customers (account_id, lower(email));
create index customers_erased_by_idx on customers (account_id, erased_by) where erased_by is not null;

create table calls (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts (id),
    customer_id uuid not null,
    user_id uuid,
    direction text not null check (direction in ('inbound', 'outbound')),
    from_number text not null,
    to_number text not null,
    started_at timestamptz not null,
    duration_seconds integer not null check (duration_seconds >= 0),
    disposition text,
    notes text,
    transcript text,
    is_voicemail boolean not null default false,
    -- Key of the recording (or voicemail audio) in the object store.
    recording_key text,
    foreign key (account_id, customer_id) references customers (account_id, id),
    foreign key (account_id, user_id) references users (account_id, id)
);
-- Serves the customer page (newest first, keyset paging), the counts and the erasure.
create index calls_customer_started_idx on calls (account_id, customer_id, started_at desc, id desc);
create index calls_user_idx on calls (account_id, user_id);

create table messages (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts (id),
    customer_id uuid not null,
    user_id uuid,
    direction text not null check (direction in ('inbound', 'outbound')),
    from_number text not null,
    to_number text not null,
    body text not null,
    sent_at timestamptz not null,
    media_keys text[] not null default '{}',
    foreign key (account_id, customer_id) references customers (account_id, id),
    foreign key (account_id, user_id) references users (account_id, id)
);
create index messages_customer_sent_idx on messages (account_id, customer_id, sent_at desc, id desc);
create index messages_user_idx on messages (account_id, user_id);

-- Evidence of each erasure. Deliberately no name, email, phone or content: only ids and counts.
create table erasures (
    id uuid primary key,
    account_id uuid not null references accounts (id),
    customer_id uuid not null,
    object_type text not null,
    salesforce_id text not null,
    erased_by uuid not null,
    erased_at timestamptz not null default now(),
    calls_deleted integer not null,
    recordings_deleted integer not null,
    voicemails_deleted integer not null,
    transcripts_deleted integer not null,
    messages_deleted integer not null,
    media_deleted integer not null,
    first_activity_at timestamptz,
    last_activity_at timestamptz,
    -- A record is erased once; concurrent erasures cannot both commit.
    unique (account_id, customer_id),
    foreign key (account_id, customer_id) references customers (account_id, id),
    foreign key (account_id, erased_by) references users (account_id, id)
);
create index erasures_erased_by_idx on erasures (account_id, erased_by);
create index erasures_account_time_idx on erasures (account_id, erased_at desc);

-- Outbox of stored objects (recordings, voicemails, media) still to delete after an erasure committed.
-- A row leaves only when its object is gone; workers claim rows with FOR UPDATE SKIP LOCKED.
create table object_deletions (
    id bigint generated always as identity primary key,
    account_id uuid not null references accounts (id),
    -- Deferred so the erasure can queue keys before it writes its own row, all in one transaction.
    erasure_id uuid not null references erasures (id) deferrable initially deferred,
    object_key text not null,
    attempts integer not null default 0,
    last_error text,
    next_attempt_at timestamptz not null default now(),
    created_at timestamptz not null default now()
);
create index object_deletions_due_idx on object_deletions (next_attempt_at, id);
create index object_deletions_erasure_idx on object_deletions (erasure_id);
create index object_deletions_account_idx on object_deletions (account_id);

-- Who changed which access rule, and when.
create table audit_events (
    id bigint generated always as identity primary key,
    account_id uuid not null references accounts (id),
    actor_id uuid not null,
    action text not null check (action in (
        'customer_data_setting_enabled', 'customer_data_setting_disabled',
        'customer_data_permission_granted', 'customer_data_permission_revoked'
    )),
    target_user_id uuid,
    occurred_at timestamptz not null default now(),
    foreign key (account_id, actor_id) references users (account_id, id),
    foreign key (account_id, target_user_id) references users (account_id, id)
);
create index audit_events_account_time_idx on audit_events (account_id, occurred_at desc);
create index audit_events_actor_idx on audit_events (account_id, actor_id);
create index audit_events_target_idx on audit_events (account_id, target_user_id) where target_user_id is not null;

-- Failed sign-ins, for the login rate limit (shared by every app server).
create table login_failures (
    email_key text not null,
    failed_at timestamptz not null default now()
);
create index login_failures_email_time_idx on login_failures (email_key, failed_at);

-- Sessions, in the layout of tower-sessions-sqlx-store (the app points the store at this table).
create table sessions (
    id text primary key not null,
    data bytea not null,
    expiry_date timestamptz not null
);
create index sessions_expiry_idx on sessions (expiry_date);

-- No call or message may be added to an erased record: no re-import of erased people. FOR SHARE waits for a
-- running erasure (which holds FOR UPDATE) and then sees its outcome, so an insert racing an erasure is either
-- erased with it or refused.
create function refuse_activity_for_erased_customer() returns trigger
language plpgsql as $$
declare
    erased timestamptz;
begin
    select erased_at into erased from customers
    where id = new.customer_id and account_id = new.account_id
    for share;
    if erased is not null then
        raise exception 'customer % was erased', new.customer_id using errcode = 'P0001', hint = 'customer_erased';
    end if;
    return new;
end;
$$;

create trigger calls_refuse_erased before insert or update of customer_id on calls
    for each row execute function refuse_activity_for_erased_customer();
create trigger messages_refuse_erased before insert or update of customer_id on messages
    for each row execute function refuse_activity_for_erased_customer();
