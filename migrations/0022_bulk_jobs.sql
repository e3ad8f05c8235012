-- Bulk erasure from a CSV (DESIGN.md /requests/bulk, `POST /api/v1/bulk-jobs`). A job is the dry run of one
-- uploaded file: one row per data row of the file with its verdict and the records it matched, and, once it is
-- confirmed, one erasure request per person, made for exactly the records of the dry run. The identifiers
-- themselves are never stored: a row is named by its line in the file (the header is line 1) and by the records
-- it matched, so nothing here names a person once their records are erased.
create table bulk_jobs (
    id uuid primary key,
    account_id uuid not null references accounts (id),
    created_by uuid not null,
    api_token_id uuid references api_tokens (id),
    created_at timestamptz not null default clock_timestamp(),
    identifier_column text not null check (identifier_column in ('email', 'phone', 'salesforce_id', 'detected')),
    rows_total integer not null check (rows_total between 1 and 10000),
    suppress boolean not null default true,
    confirmed_by uuid,
    confirmed_at timestamptz,
    unique (account_id, id),
    foreign key (account_id, created_by) references users (account_id, id),
    foreign key (account_id, confirmed_by) references users (account_id, id),
    constraint bulk_jobs_confirmed_together check ((confirmed_by is null) = (confirmed_at is null))
);
create index bulk_jobs_account_idx on bulk_jobs (account_id, created_at desc);

-- One data row of a job's file. `verdict` is what the dry run found: `erase` (records to erase), or why not:
-- `malformed` (with `reason`), `not_found`, `already_erased`, `suppressed`, `duplicate` (of row
-- `duplicate_of`: the same identifier, or the same records). `customer_ids`, `calls` and `messages` are the
-- records the row matched and what they held at the dry run; `request_id` is the request confirming made.
create table bulk_job_rows (
    account_id uuid not null,
    job_id uuid not null,
    line integer not null check (line >= 2),
    kind text check (kind in ('email', 'phone', 'salesforce_id')),
    verdict text not null check (verdict in ('erase', 'malformed', 'not_found', 'already_erased', 'suppressed', 'duplicate')),
    reason text check (length(reason) <= 200),
    duplicate_of integer,
    customer_ids uuid[] not null default '{}',
    calls bigint not null default 0,
    messages bigint not null default 0,
    request_id uuid,
    primary key (job_id, line),
    foreign key (account_id, job_id) references bulk_jobs (account_id, id) on delete cascade,
    foreign key (account_id, request_id) references erasure_requests (account_id, id),
    constraint bulk_job_rows_reason_when check ((verdict = 'malformed') = (reason is not null)),
    constraint bulk_job_rows_duplicate_when check ((verdict = 'duplicate') = (duplicate_of is not null))
);
create index bulk_job_rows_request_idx on bulk_job_rows (request_id) where request_id is not null;

-- The requests a confirmed job made (source `bulk`, through the console or an API token): approved or
-- rejected together, and counted for its progress.
alter table erasure_requests add column bulk_job_id uuid;
alter table erasure_requests
    add constraint erasure_requests_bulk_job_fk foreign key (account_id, bulk_job_id) references bulk_jobs (account_id, id);
alter table erasure_requests
    drop constraint erasure_requests_api_token,
    add constraint erasure_requests_api_token check (
        (source = 'api' and api_token_id is not null) or (source = 'console' and api_token_id is null)
        or source = 'bulk'
    ),
    add constraint erasure_requests_bulk_job check ((source = 'bulk') = (bulk_job_id is not null));
create index erasure_requests_bulk_job_idx on erasure_requests (bulk_job_id, state) where bulk_job_id is not null;

insert into audit_actions (action) values ('bulk_job_checked'), ('bulk_job_confirmed'), ('bulk_job_downloaded');
