-- Signed receipts of completed erasure requests, and the residual check they record.
--
-- A completed request's receipt is a compact JWS (Ed25519) over canonical JSON; it is final once the request's
-- stored files are deleted, so it is written when the outbox has deleted the last of them (at once for a
-- request with none). The receipt is kept as issued (text, verifiable as it is) with the time it was issued;
-- both are set together, only on a completed request, and never changed afterwards.
alter table erasure_requests
    add column receipt_jws text,
    add column receipt_issued_at timestamptz,
    add constraint erasure_requests_receipt_issued_when
        check ((receipt_jws is null) = (receipt_issued_at is null)),
    add constraint erasure_requests_receipt_when_completed
        check (receipt_jws is null or state = 'completed');

create function refuse_receipt_change() returns trigger language plpgsql as $$
begin
    raise exception 'the receipt of erasure request % is final', old.id using errcode = 'check_violation';
end;
$$;

-- A receipt, once issued, is final: an update may not change or remove it. Updates that leave it alone pass.
create trigger erasure_requests_receipt_final before update on erasure_requests
    for each row when (old.receipt_jws is not null
                       and (new.receipt_jws is distinct from old.receipt_jws
                            or new.receipt_issued_at is distinct from old.receipt_issued_at))
    execute function refuse_receipt_change();

-- The receipt issuer looks for completed requests still without a receipt, oldest first: few, so a partial index.
create index erasure_requests_receipt_due_idx on erasure_requests (completed_at, id)
    where state = 'completed' and receipt_jws is null;

-- The storage keys an erasure queued, kept as they leave the outbox (deleted, or refused as outside the
-- account), so that the residual check can ask the store whether any object is still there once all are gone.
-- Batches as in the outbox (up to 1,000 keys a row, lz4), no foreign keys (like the outbox, written by the
-- worker, not by the erasure). The rows of a request go when its receipt is issued: the receipt keeps the count.
-- Keys are paths made of account and row ids (`recordings/<account>/<call>.wav`): no personal data.
create table residual_check_keys (
    id bigint generated always as identity primary key,
    account_id uuid not null,
    erasure_id uuid not null,
    object_keys text[] not null check (cardinality(object_keys) between 1 and 1000),
    recorded_at timestamptz not null default now()
);
alter table residual_check_keys alter column object_keys set compression lz4;
create index residual_check_keys_erasure_idx on residual_check_keys (erasure_id);
