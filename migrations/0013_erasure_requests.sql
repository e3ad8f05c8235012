-- Erasure requests: a person's erasure, not a record's. A request names one or more customer records of one
-- account, is erased in one transaction (all of its records or none) and carries one due date; every `erasures`
-- row now belongs to one. The help article's single-record Delete is a request of one record.
--
-- The account's erasure policy. `hold_hours` 0 and no approval thresholds (the defaults) keep today's flow: the
-- request is created and erased in the same call. `deadline_days` dates every request (GDPR: one month; CCPA:
-- 45 days). A request with at least `approval_min_records` records or at least `approval_min_items` calls and
-- messages needs another person's approval; null means never.
alter table accounts
    add column hold_hours integer not null default 0 check (hold_hours between 0 and 8760),
    add column deadline_days integer not null default 30 check (deadline_days between 1 and 365),
    add column approval_min_records integer check (approval_min_records >= 1),
    add column approval_min_items integer check (approval_min_items >= 1);

-- One request. `state` follows the lifecycle awaiting_approval -> scheduled (until `not_before`) -> erasing ->
-- completed, or rejected, cancelled, failed (with `failure`, retryable). The columns of each transition say who
-- and when; a column is set only by the transition it names. `requested_by` is the user who confirmed it
-- (the source `console`); requests of the public API and of bulk jobs come with their own issues.
create table erasure_requests (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts (id),
    source text not null default 'console' check (source in ('console', 'api', 'bulk')),
    requested_by uuid not null,
    received_at timestamptz not null default clock_timestamp(),
    due_at timestamptz not null,
    state text not null check (state in (
        'awaiting_approval', 'scheduled', 'erasing', 'completed', 'rejected', 'cancelled', 'failed'
    )),
    not_before timestamptz,
    approved_by uuid,
    approved_at timestamptz,
    rejected_by uuid,
    rejected_at timestamptz,
    rejection_reason text check (length(rejection_reason) <= 500),
    cancelled_by uuid,
    cancelled_at timestamptz,
    completed_at timestamptz,
    failure text,
    unique (account_id, id),
    foreign key (account_id, requested_by) references users (account_id, id),
    foreign key (account_id, approved_by) references users (account_id, id),
    foreign key (account_id, rejected_by) references users (account_id, id),
    foreign key (account_id, cancelled_by) references users (account_id, id),
    constraint erasure_requests_completed_when check ((state = 'completed') = (completed_at is not null)),
    constraint erasure_requests_failed_why check ((state = 'failed') = (failure is not null))
);
create index erasure_requests_account_idx on erasure_requests (account_id, received_at desc);
create index erasure_requests_due_idx on erasure_requests (not_before) where state = 'scheduled';

-- The records of a request with the counts its confirmation showed (the preview), in the order they are erased
-- (by id). Nothing here keeps a record out of two open requests: the erasure's lock on the record decides,
-- and the later request finds it erased.
create table erasure_request_records (
    account_id uuid not null,
    request_id uuid not null,
    customer_id uuid not null,
    preview_calls integer not null,
    preview_messages integer not null,
    primary key (request_id, customer_id),
    foreign key (account_id, request_id) references erasure_requests (account_id, id),
    foreign key (account_id, customer_id) references customers (account_id, id)
);
create index erasure_request_records_customer_idx on erasure_request_records (account_id, customer_id);

-- Every erasure belongs to a request. Erasures made before requests existed each get a request of their own,
-- completed when they were, received then and due the same day.
alter table erasures add column request_id uuid;
update erasures set request_id = gen_random_uuid();

insert into erasure_requests (id, account_id, requested_by, received_at, due_at, state, completed_at)
select request_id, account_id, erased_by, erased_at, erased_at, 'completed', erased_at from erasures;

insert into erasure_request_records (account_id, request_id, customer_id, preview_calls, preview_messages)
select account_id, request_id, customer_id, calls_deleted, messages_deleted from erasures;

alter table erasures
    alter column request_id set not null,
    add foreign key (account_id, request_id) references erasure_requests (account_id, id);
create index erasures_request_idx on erasures (account_id, request_id);
