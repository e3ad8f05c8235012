-- Crypto-shredding: the private values of calls and messages are stored sealed under their record's data key
-- (src/server/keys/seal.rs), in the *_sealed columns, and the plaintext columns stay empty for them. Rows
-- written before keys existed keep their plaintext until `seal-existing` seals them. Each value is in one of
-- its two columns, never both; the checks are NOT VALID because every existing row satisfies them (all
-- plaintext) and validating would read every row of the largest tables.
alter table calls
    add column from_number_sealed bytea,
    add column to_number_sealed bytea,
    add column notes_sealed bytea,
    add column transcript_sealed bytea,
    alter column from_number drop not null,
    alter column to_number drop not null,
    add constraint calls_from_number_once check ((from_number is null) <> (from_number_sealed is null)) not valid,
    add constraint calls_to_number_once check ((to_number is null) <> (to_number_sealed is null)) not valid,
    add constraint calls_notes_once check (notes is null or notes_sealed is null) not valid,
    add constraint calls_transcript_once check (transcript is null or transcript_sealed is null) not valid;

alter table messages
    add column from_number_sealed bytea,
    add column to_number_sealed bytea,
    add column body_sealed bytea,
    alter column from_number drop not null,
    alter column to_number drop not null,
    alter column body drop not null,
    add constraint messages_from_number_once check ((from_number is null) <> (from_number_sealed is null)) not valid,
    add constraint messages_to_number_once check ((to_number is null) <> (to_number_sealed is null)) not valid,
    add constraint messages_body_once check ((body is null) <> (body_sealed is null)) not valid;
