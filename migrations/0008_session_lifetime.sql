-- A session ends at the latest a fixed time after sign-in (SESSION_MAX_HOURS, 12 by default), however often it is
-- used: `absolute_expires_at` is set once, at sign-in, and the idle end (`expires_at`, moved forward as the
-- session is used) never passes it, which the check keeps true. So `expires_at` alone still says whether a
-- session is live, and the statements that read a session need no change.
-- Sessions already open end 12 hours after they started.
alter table sessions add column absolute_expires_at timestamptz;
update sessions set absolute_expires_at = created_at + interval '12 hours';
update sessions set expires_at = absolute_expires_at where expires_at > absolute_expires_at;
alter table sessions alter column absolute_expires_at set not null;
alter table sessions add constraint sessions_end_within_lifetime check (expires_at <= absolute_expires_at);

-- Ending sessions is audited like the other acts: a user signing out their other sessions (the target is the
-- user themself) and an Admin ending all sessions of a user of their account.
alter table audit_events drop constraint audit_events_action_check;
alter table audit_events add constraint audit_events_action_check check (action in (
    'customer_data_setting_enabled', 'customer_data_setting_disabled',
    'customer_data_permission_granted', 'customer_data_permission_revoked',
    'other_sessions_ended', 'user_sessions_ended'
));
