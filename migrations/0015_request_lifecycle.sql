-- The lifecycle of erasure requests beyond "erased at once": holds, approvals, cancelling, erasing now and
-- failures.
--
-- A failed request keeps its reason (`failure`) and when it failed; trying it again clears both as it leaves
-- `failed`, and the timeline keeps the attempt (see `failures` below).
alter table erasure_requests add column failed_at timestamptz;
alter table erasure_requests drop constraint erasure_requests_failed_why;
alter table erasure_requests add constraint erasure_requests_failed_why
    check ((state = 'failed') = (failure is not null and failed_at is not null));
-- Every failure of the request, oldest first, as the timeline shows them: a request that failed and then
-- completed on its second try shows both.
alter table erasure_requests add column failures jsonb not null default '[]'
    check (jsonb_typeof(failures) = 'array');

-- The scheduler claims due requests in the order they came due; this is its index (replacing the one on
-- `not_before` alone, which also served it).
drop index erasure_requests_due_idx;
create index erasure_requests_due_idx on erasure_requests (not_before, id) where state = 'scheduled';

-- Changing the erasure policy is audited like the setting it sits beside.
alter table audit_events drop constraint audit_events_action_check;
alter table audit_events add constraint audit_events_action_check check (action in (
    'customer_data_setting_enabled', 'customer_data_setting_disabled',
    'customer_data_permission_granted', 'customer_data_permission_revoked',
    'other_sessions_ended', 'user_sessions_ended',
    'erasure_policy_changed'
));
