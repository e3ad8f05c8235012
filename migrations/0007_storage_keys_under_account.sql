-- Stored objects are addressed under their account's prefixes only: a call's recording (or voicemail) key is
-- `recordings/<account id>/...` and a message's media keys are `media/<account id>/...`, the account id in its
-- text form and at least one character after the prefix. This is the form the keys already have, so no key and
-- no stored file moves. A key outside its row's account is how one tenant's erasure deleted another tenant's
-- file; the erasure and the outbox worker refuse such keys (and log them as integrity errors), and from now on
-- the schema refuses to store them. The application's twin of this rule is src/server/storage.rs
-- (`account_key_pattern`, `AccountStorage`): keep the two alike. The account id and the kinds hold no LIKE
-- wildcard, so the patterns below match exactly these prefixes.

-- Every element of `media_keys` is a media key of the account (an empty array is).
create function are_account_media_keys(account_id uuid, media_keys text[]) returns boolean
language sql immutable parallel safe
as $$
    select not exists (
        select from unnest(media_keys) as media_key
        where media_key is null or media_key not like 'media/' || account_id::text || '/_%'
    )
$$;

-- NOT VALID: every row written from now on is checked, rows written before are not, so that a database that
-- already holds such a key still starts. The erasure refuses those keys (it neither queues nor counts them, and
-- the `erasures` row counts them apart); once none is left, `alter table calls validate constraint
-- calls_recording_key_in_account` (and the same for messages) makes the rule hold for every row.
alter table calls add constraint calls_recording_key_in_account
    check (recording_key like 'recordings/' || account_id::text || '/_%') not valid;
alter table messages add constraint messages_media_keys_in_account
    check (are_account_media_keys(account_id, media_keys)) not valid;

-- How many stored keys an erasure found on the record's calls and messages outside the account's prefixes:
-- their rows were erased, their files left alone (they are not the account's to delete).
alter table erasures add column stored_keys_refused integer not null default 0;
