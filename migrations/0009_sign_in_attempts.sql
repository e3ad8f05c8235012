-- Sign-in attempts are reserved before the password check, so that simultaneous attempts cannot all read a
-- count below the limit: the sign-in takes an advisory lock on the email's key, counts the window's rows and
-- inserts its own as `pending`, all in one transaction, then checks the password and turns its row into a
-- failure (`pending` false) or deletes it. A pending row counts against the limit like a failure; one left
-- behind by a crash is forgotten with the failures once the window has passed. `failed_at` is when the attempt
-- was reserved. The table keeps its name: its rows are still the failures the limit counts.
alter table login_failures
    add column id bigint generated always as identity primary key,
    add column pending boolean not null default false;

-- The client that made the attempt (its address, or its IPv6 /64 network), for the per-client limit that counts
-- attempts across all emails; null on rows from before it.
alter table login_failures add column client_key text;
create index login_failures_client_time_idx on login_failures (client_key, failed_at);
