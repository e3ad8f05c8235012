-- When the session's user last proved who they are with their password: at sign-in, and again each time an
-- irreversible step (an erasure) asked for the password because this was over 15 minutes ago (as GitHub's sudo
-- mode). A new session gets it by default at its insert, so the sign-in statement needs no change. Sessions
-- already open count as signed in when they were created.
alter table sessions add column authenticated_at timestamptz;
update sessions set authenticated_at = created_at;
alter table sessions alter column authenticated_at set default now();
alter table sessions alter column authenticated_at set not null;
