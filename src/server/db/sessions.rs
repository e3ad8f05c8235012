//! Sessions: creating and ending them, and reading the signed-in principal through one in a single indexed
//! join (session, user, account), so every request sees the user's current role and grants. A session's idle
//! end (`expires_at`) moves forward as it is used but never past its absolute end (`absolute_expires_at`, set
//! at sign-in), so `expires_at` alone says whether it is live. `authenticated_at` is when the user last entered
//! their password in it (sign-in, or again for an erasure).

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgExecutor, PgPool};
use uuid::Uuid;

use crate::model::Role;
use crate::server::authz::Principal;
use crate::server::evidence::audit_log::{self, Action, Actor, Entry};
use crate::server::sessions::SessionKey;

use super::users::role_from_db;

/// The principal's columns that come from a user `u` and their account `a`.
macro_rules! user_and_account_columns {
    () => {
        "u.id as principal_user_id, u.account_id as principal_account_id,
        u.name as principal_name, u.email as principal_email, u.role as principal_role,
        u.manage_customer_data as principal_manage_customer_data, a.name as principal_account_name,
        a.manage_customer_data as principal_account_manage_customer_data,
        a.default_country as principal_account_default_country"
    };
}

/// The principal's columns, for a statement that joins `sessions s`, `users u` and `accounts a`. Its names
/// start with `principal_` so the statement can return other rows' columns beside them.
pub const PRINCIPAL_COLUMNS: &str = concat!(
    user_and_account_columns!(),
    ",
        s.expires_at < least(now() + interval '7 hours', s.absolute_expires_at)
            as principal_session_due_for_renewal"
);

/// The principal's columns for a user `u` and account `a` read without a session (the requester of a request
/// the scheduler runs): there is no session to renew.
pub const USER_PRINCIPAL_COLUMNS: &str = concat!(
    user_and_account_columns!(),
    ", false as principal_session_due_for_renewal"
);

/// Sessions `s` joined with their users `u` and the users' accounts `a`; `LIVE_SESSION` picks one.
pub const SESSION_JOIN: &str =
    "sessions s join users u on u.id = s.user_id join accounts a on a.id = u.account_id";
/// The condition on `SESSION_JOIN` that picks the live session with key `$1` (a `SessionKey`): one not ended
/// and not expired.
pub const LIVE_SESSION: &str = "s.token_hash = $1 and s.expires_at > now()";

/// The principal of user `user_id` of account `account_id` as they are now (an API token's Admin), if they are
/// still a user of it.
pub async fn principal_of_user(
    pool: &PgPool,
    account_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<Principal>> {
    let sql = format!(
        "select {USER_PRINCIPAL_COLUMNS} from users u join accounts a on a.id = u.account_id
         where u.id = $1 and u.account_id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(user_id)
        .bind(account_id)
        .fetch_optional(pool)
        .await?;
    row.map(|row| principal_of(&row).map(|found| found.principal))
        .transpose()
}

/// The principal behind a live session, and whether the session's end should move forward.
pub struct SessionPrincipal {
    /// The session's user, with their account and grants as they are now.
    pub principal: Principal,
    /// Whether the session's idle end was last moved over an hour ago (it is less than seven hours ahead) and can
    /// still move (it is before the absolute end), so that `renew` should move it.
    pub due_for_renewal: bool,
}

#[derive(FromRow)]
struct PrincipalRow {
    principal_user_id: Uuid,
    principal_account_id: Uuid,
    principal_name: String,
    principal_email: String,
    principal_role: String,
    principal_manage_customer_data: bool,
    principal_account_name: String,
    principal_account_manage_customer_data: bool,
    principal_account_default_country: String,
    principal_session_due_for_renewal: bool,
}

/// Reads the `PRINCIPAL_COLUMNS` of a row.
pub fn principal_of(row: &PgRow) -> sqlx::Result<SessionPrincipal> {
    let r = PrincipalRow::from_row(row)?;
    let role: Role = role_from_db(&r.principal_role);
    Ok(SessionPrincipal {
        principal: Principal {
            user_id: r.principal_user_id,
            account_id: r.principal_account_id,
            name: r.principal_name,
            email: r.principal_email,
            role,
            holds_customer_data_permission: r.principal_manage_customer_data,
            account_name: r.principal_account_name,
            account_customer_data_enabled: r.principal_account_manage_customer_data,
            account_default_country: r.principal_account_default_country,
        },
        due_for_renewal: r.principal_session_due_for_renewal,
    })
}

/// The principal of a live session, or `None` for an unknown, ended or expired one.
pub async fn principal(pool: &PgPool, key: &SessionKey) -> sqlx::Result<Option<SessionPrincipal>> {
    let sql = format!("select {PRINCIPAL_COLUMNS} from {SESSION_JOIN} where {LIVE_SESSION}");
    let row = sqlx::query(&sql)
        .bind(key.as_bytes())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(principal_of).transpose()
}

/// Starts a session for `user_id` that lasts at most `max_hours`, ending the one the browser presented (if any)
/// in the same statement.
pub async fn start<'c>(
    db: impl PgExecutor<'c>,
    key: &SessionKey,
    user_id: Uuid,
    replacing: Option<&SessionKey>,
    max_hours: u16,
) -> sqlx::Result<()> {
    sqlx::query!(
        "with ended as (delete from sessions where token_hash = $3)
         insert into sessions (token_hash, user_id, expires_at, absolute_expires_at)
         select $1, $2, least(now() + interval '8 hours', lifetime.ends), lifetime.ends
         from (select now() + make_interval(hours => $4) as ends) lifetime",
        key.as_bytes(),
        user_id,
        replacing.map(SessionKey::as_bytes),
        i32::from(max_hours)
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Moves the session's end eight hours past now, or to its absolute end if that comes first.
pub async fn renew(pool: &PgPool, key: &SessionKey) -> sqlx::Result<()> {
    sqlx::query!(
        "update sessions set expires_at = least(now() + interval '8 hours', absolute_expires_at)
         where token_hash = $1",
        key.as_bytes()
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether the live session with key `key` proved its user's password (at sign-in, or since) within the last
/// `minutes` minutes; `false` for no such session.
pub async fn authenticated_within(
    pool: &PgPool,
    key: &SessionKey,
    minutes: i64,
) -> sqlx::Result<bool> {
    let recent: Option<bool> = sqlx::query_scalar(
        "select authenticated_at > now() - make_interval(mins => $2::bigint::int)
         from sessions where token_hash = $1 and expires_at > now()",
    )
    .bind(key.as_bytes())
    .bind(minutes)
    .fetch_optional(pool)
    .await?;
    Ok(recent.unwrap_or(false))
}

/// Records that the session with key `key` proved its user's password again just now.
pub async fn reauthenticated(pool: &PgPool, key: &SessionKey) -> sqlx::Result<()> {
    sqlx::query("update sessions set authenticated_at = now() where token_hash = $1")
        .bind(key.as_bytes())
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends the session with key `key` (sign-out); answers whether there was one.
pub async fn end<'c>(db: impl PgExecutor<'c>, key: &SessionKey) -> sqlx::Result<bool> {
    let ended = sqlx::query!("delete from sessions where token_hash = $1", key.as_bytes())
        .execute(db)
        .await?
        .rows_affected();
    Ok(ended > 0)
}

/// Ends every session of the signed-in user but `current`, and appends it to the audit log when a live one
/// ended, in one transaction. Returns how many live sessions ended.
pub async fn end_others(
    pool: &PgPool,
    account_id: Uuid,
    user_id: Uuid,
    current: &SessionKey,
) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    let ended: i64 = sqlx::query_scalar(
        "with ended as (
             delete from sessions where user_id = $1 and token_hash <> $2 returning expires_at > now() as live
         )
         select count(*) filter (where live) from ended",
    )
    .bind(user_id)
    .bind(current.as_bytes())
    .fetch_one(&mut *tx)
    .await?;
    if ended > 0 {
        let entry = Entry::new(account_id, Actor::User(user_id), Action::OtherSessionsEnded)
            .target_user(user_id)
            .count("sessions", ended);
        audit_log::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(ended.unsigned_abs())
}

/// Ends every session of the user `user_id` of the account, for the Admin `actor_id`, and appends it to the
/// audit log when a live one ended, in one transaction. Returns how many live sessions ended, or `None` when
/// the account has no such user.
pub async fn end_all_of_user(
    pool: &PgPool,
    account_id: Uuid,
    actor_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<u64>> {
    let mut tx = pool.begin().await?;
    let (found, ended): (bool, i64) = sqlx::query_as(
        "with target as (
             select id from users where account_id = $1 and id = $2
         ), ended as (
             delete from sessions where user_id in (select id from target) returning expires_at > now() as live
         )
         select exists (select from target), count(*) filter (where live) from ended",
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if ended > 0 {
        let entry = Entry::new(account_id, Actor::User(actor_id), Action::UserSessionsEnded)
            .target_user(user_id)
            .count("sessions", ended);
        audit_log::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(found.then_some(ended.unsigned_abs()))
}

/// Deletes sessions that expired; returns how many.
pub async fn delete_expired(pool: &PgPool) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("delete from sessions where expires_at <= now()")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
