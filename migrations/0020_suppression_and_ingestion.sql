-- Suppression and ingestion (DESIGN.md, "R2: Suppression and ingestion"), erasure requests made through the API,
-- and what every /api/v1 POST needs: idempotency keys and a per-token rate limit.

-- Whether a request's people go on the suppression list when it completes (the dialog's checkbox and the API's
-- `suppress`, on by default), and when they did. The list is written after the erasure commits, by whoever holds
-- the evidence secret (the HMACs need it, and it is never in the database): at once by the instance that erased,
-- and by every instance's outbox worker for a request an instance stopped before it could.
alter table erasure_requests
    add column suppress boolean not null default true,
    add column suppressed_at timestamptz,
    add constraint erasure_requests_suppressed_when check (suppressed_at is null or (suppress and state = 'completed'));
create index erasure_requests_unsuppressed_idx on erasure_requests (completed_at)
    where state = 'completed' and suppress and suppressed_at is null;

-- The account's suppression list: a person's identifiers only as the audit log names persons, HMAC-SHA-256 of the
-- normalized identifier (a lower-cased email, an E.164 phone number, an 18-character Salesforce id) under the
-- account's key, so the list holds no email, phone or id in the clear. Ingestion looks an identifier up by that
-- hash: at most one live entry per hash (the partial unique index is the lookup). Lifting keeps the row, with who
-- lifted it, when and why; a person erased again is suppressed again by a new row.
create table suppressions (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references accounts (id),
    kind text not null check (kind in ('email', 'phone', 'salesforce_id')),
    identifier_hmac bytea not null check (octet_length(identifier_hmac) = 32),
    request_id uuid not null,
    added_at timestamptz not null default clock_timestamp(),
    lifted_by uuid,
    lifted_at timestamptz,
    lift_reason text check (length(lift_reason) between 1 and 500),
    unique (account_id, id),
    foreign key (account_id, request_id) references erasure_requests (account_id, id),
    foreign key (account_id, lifted_by) references users (account_id, id),
    constraint suppressions_lifted_whole check (
        (lifted_at is null) = (lifted_by is null) and (lifted_at is null) = (lift_reason is null)
    )
);
create unique index suppressions_live_idx on suppressions (account_id, identifier_hmac) where lifted_at is null;
create index suppressions_account_idx on suppressions (account_id, added_at desc, id);
create index suppressions_request_idx on suppressions (account_id, request_id);

-- A request a privacy platform made through the API (`source` 'api') names the token it came through. Such a
-- request is requested by the Admin who made the token (`requested_by`) and runs with that Admin's access to
-- Customer Data, decided again inside its erasure, as a request made in the console does.
alter table api_tokens add constraint api_tokens_account_id_key unique (account_id, id);
alter table erasure_requests
    add column api_token_id uuid,
    add constraint erasure_requests_api_token_fkey foreign key (account_id, api_token_id)
        references api_tokens (account_id, id),
    add constraint erasure_requests_api_token check ((source = 'api') = (api_token_id is not null));
create index erasure_requests_api_token_idx on erasure_requests (api_token_id) where api_token_id is not null;

-- `Idempotency-Key` of the API's POSTs: per token and key, a keyed hash of the request (method, path, body) and,
-- once it ran, the answer (status and body, which name ids only). The first request claims the key with a row
-- of its own (no answer yet, `claimed_at`), committed at once, so no connection is held while it runs; a claim
-- left by a stopped instance may be taken over after a while. A key is kept 24 hours.
create table idempotency_keys (
    token_id uuid not null references api_tokens (id),
    key text not null check (length(key) between 1 and 255),
    request_hmac bytea not null check (octet_length(request_hmac) = 32),
    status smallint check (status between 200 and 499),
    content_type text,
    answer text,
    claimed_at timestamptz not null default now(),
    expires_at timestamptz not null,
    primary key (token_id, key),
    constraint idempotency_keys_answer_whole check (
        (status is null) = (answer is null) and (status is null) = (content_type is null)
    )
);
create index idempotency_keys_expiry_idx on idempotency_keys (expires_at);

-- The per-token rate limit: requests counted in a fixed one-minute window, on the row every request already
-- updates (`last_used_at`), so the count is shared by all instances at no extra round trip.
alter table api_tokens
    add column window_started_at timestamptz,
    add column window_requests integer not null default 0;

insert into audit_actions (action) values ('suppression_added'), ('suppression_lifted');
