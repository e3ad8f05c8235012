-- Searches are POSTs, so that what an Admin searches for (an email the console may be about to erase) never
-- lands in a URL: browser history, proxy and server logs keep URLs beyond the reach of any erasure. The search
-- is kept here for a short while, and the result page's URL carries only its id, so the results survive a
-- reload and the back button.
-- - `id` is random (gen_random_uuid, 122 random bits) and opaque; knowing it is not enough, since only the user
--   who searched (`user_id`, in `account_id`) can read it.
-- - `kind` says which page shows it. `query` is the text as the parser accepted it, trimmed; a search the
--   console refused keeps no text, only the refusal to show (`refusal`, the error as JSON), so that a plain
--   form's error reaches the page through the same redirect.
-- - A search lives 30 minutes (`expires_at`). Expired rows are never read; each new search of the user deletes
--   theirs, and the periodic clean-up deletes everyone's.
-- - Erasing a customer record deletes, in the erasure's last statement, its account's searches for the record's
--   email (compared like the search compares it, `lower` on both sides), expired or not.
create table saved_searches (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null,
    user_id uuid not null,
    kind text not null check (kind in ('customers', 'users')),
    query text check (length(query) <= 200),
    refusal text,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null default now() + interval '30 minutes',
    foreign key (account_id, user_id) references users (account_id, id) on delete cascade,
    constraint saved_searches_query_or_refusal check ((query is null) <> (refusal is null))
);
create index saved_searches_user_idx on saved_searches (account_id, user_id);
create index saved_searches_expires_idx on saved_searches (expires_at);
