//! API tokens (`api_tokens`): making one (the secret is answered once and stored only as its SHA-256),
//! revoking one, and finding the token a request presents, each making and revoking appended to the account's
//! audit log in its transaction.

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::model::ApiTokenSummary;
use crate::server::authz::{ApiScope, TokenPrincipal};
use crate::server::evidence::audit_log::{self, Action, Actor, Entry};
use crate::server::sessions::new_token;

/// What starts every secret, so that a leaked one is recognizable (by secret scanners too).
pub const SECRET_PREFIX: &str = "cdc_";

/// A token just made: its id and the secret, which is not stored and cannot be shown again.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The token's id.
    pub id: Uuid,
    /// `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// What is stored of a secret: its SHA-256.
fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// What a new token is: its name, scopes, lifetime, and the Admin it acts for.
#[derive(Debug, Clone)]
pub struct TokenSpec<'a> {
    /// What it is for (1 to 100 characters).
    pub name: &'a str,
    /// What it may do.
    pub scopes: &'a [ApiScope],
    /// How long it works; forever when `None`.
    pub expires_in: Option<Duration>,
    /// The Admin of the account it acts for: the erasure requests it makes are requested by them and run with
    /// their access to Customer Data. A token without one cannot make requests.
    pub admin: Option<Uuid>,
}

/// Makes a token of account `account_id` as `spec` says, by `by` (an Admin, or the console's command line), and
/// appends it to the account's audit log, in one transaction.
pub async fn create(
    pool: &PgPool,
    account_id: Uuid,
    spec: &TokenSpec<'_>,
    by: Actor,
) -> sqlx::Result<NewToken> {
    let id = Uuid::new_v4();
    let secret = format!("{SECRET_PREFIX}{}", new_token());
    let keys: Vec<String> = spec
        .scopes
        .iter()
        .map(|scope| scope.key().to_owned())
        .collect();
    let (name, created_by) = (spec.name, spec.admin);
    let expires_at = spec
        .expires_in
        .map(|after| OffsetDateTime::now_utc() + after);
    let hash = secret_hash(&secret);
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into api_tokens (id, account_id, name, scopes, secret_hash, created_by, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        id,
        account_id,
        name,
        &keys,
        hash.as_slice(),
        created_by,
        expires_at
    )
    .execute(&mut *tx)
    .await?;
    let entry = Entry::new(account_id, by, Action::ApiTokenCreated).ids("token", &[id]);
    audit_log::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(NewToken { id, secret })
}

/// Account `account_id`'s tokens, newest first.
pub async fn list(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Vec<ApiTokenSummary>> {
    let rows = sqlx::query!(
        "select t.id, t.name, t.scopes, u.name as \"acts_for?\", t.created_at, t.expires_at, t.last_used_at,
                t.revoked_at
         from api_tokens t
         left join users u on u.account_id = t.account_id and u.id = t.created_by
         where t.account_id = $1
         order by t.created_at desc, t.id",
        account_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ApiTokenSummary {
            id: row.id,
            name: row.name,
            scopes: row.scopes,
            acts_for: row.acts_for,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
        .collect())
}

/// Revokes token `token_id` (from its next request on) by `by`, and appends it to its account's audit log, in one
/// transaction; with `account`, only a token of that account. Answers whether a live token was revoked (false: no
/// such token, or already revoked).
pub async fn revoke(
    pool: &PgPool,
    account: Option<Uuid>,
    token_id: Uuid,
    by: Actor,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let account = sqlx::query_scalar!(
        "update api_tokens set revoked_at = now()
         where id = $1 and revoked_at is null and ($2::uuid is null or account_id = $2)
         returning account_id",
        token_id,
        account
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(account_id) = account else {
        return Ok(false);
    };
    let entry = Entry::new(account_id, by, Action::ApiTokenRevoked).ids("token", &[token_id]);
    audit_log::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(true)
}

/// A live token as a request presented it, with the requests it made in the current rate-limit window (this one
/// included) and when that window began.
#[derive(Debug, Clone)]
pub struct Presented {
    /// The token.
    pub token: TokenPrincipal,
    /// Requests in the window, this one included.
    pub window_requests: i32,
    /// When the window began; it lasts `RATE_WINDOW`.
    pub window_started_at: OffsetDateTime,
}

/// How long a rate-limit window lasts.
pub const RATE_WINDOW: Duration = Duration::minutes(1);

/// The live token whose secret is `secret` (not revoked, not expired), with its account's setting, noting that it
/// was used now and counting the request in its rate-limit window (a new window begins when the last one is
/// over); `None` for any other secret.
pub async fn presented(pool: &PgPool, secret: &str) -> sqlx::Result<Option<Presented>> {
    let hash = secret_hash(secret);
    let found = sqlx::query!(
        "update api_tokens t set last_used_at = now(),
             window_started_at = case when t.window_started_at > now() - interval '1 minute'
                                      then t.window_started_at else now() end,
             window_requests = case when t.window_started_at > now() - interval '1 minute'
                                    then t.window_requests + 1 else 1 end
         from accounts a
         where t.secret_hash = $1 and a.id = t.account_id and t.revoked_at is null
           and (t.expires_at is null or t.expires_at > now())
         returning t.id, t.account_id, t.scopes, a.manage_customer_data, t.created_by, t.window_requests,
                   t.window_started_at as \"window_started_at!\"",
        hash.as_slice()
    )
    .fetch_optional(pool)
    .await?;
    Ok(found.map(|token| Presented {
        token: TokenPrincipal {
            token_id: token.id,
            account_id: token.account_id,
            scopes: token
                .scopes
                .iter()
                .filter_map(|key| ApiScope::from_key(key))
                .collect(),
            account_customer_data_enabled: token.manage_customer_data,
            created_by: token.created_by,
        },
        window_requests: token.window_requests,
        window_started_at: token.window_started_at,
    }))
}
