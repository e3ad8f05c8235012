-- Browsers a user has signed in with: the cookie carries a random token and this table only its SHA-256. Failed
-- sign-ins are counted per email and per such browser (`browser_hash`, null for any other), so wrong passwords
-- sent from elsewhere cannot lock a user out of the browser they use.
create table known_browsers (
    token_hash bytea primary key,
    user_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now()
);
create index known_browsers_user_idx on known_browsers (user_id);
create index known_browsers_created_idx on known_browsers (created_at);

alter table login_failures add column browser_hash bytea;
drop index login_failures_email_time_idx;
create index login_failures_email_browser_time_idx on login_failures (email_key, browser_hash, failed_at);
create index login_failures_time_idx on login_failures (failed_at);
