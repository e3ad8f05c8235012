//! Users of an account: search, one user's profile, the per-user Manage Customer Data permission (with its
//! audit event), creating a user, and the role's form in the database. Signing in is `sign_in`'s.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{Role, UserSummary};
use crate::salesforce::SalesforceId;

use super::like_pattern_containing;
use crate::server::evidence::audit_log::{self, Action, Actor, Entry};

/// Users per page of a user search.
pub const USER_PAGE_SIZE: i64 = 25;

pub(super) fn role_from_db(role: &str) -> Role {
    if role == "admin" {
        Role::Admin
    } else {
        Role::Agent
    }
}

/// The role as the `users.role` column holds it: `admin` or `agent`.
pub fn role_to_db(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Agent => "agent",
    }
}

struct UserRow {
    id: Uuid,
    name: String,
    email: String,
    role: String,
    salesforce_id: Option<String>,
    manage_customer_data: bool,
}

impl UserRow {
    fn into_summary(self) -> UserSummary {
        UserSummary {
            id: self.id,
            name: self.name,
            email: self.email,
            role: role_from_db(&self.role),
            salesforce_id: self.salesforce_id,
            manage_customer_data: self.manage_customer_data,
        }
    }
}

/// Users of one account whose name or email contains `text` (case-insensitive, literally), or whose Salesforce
/// id is `salesforce_id`; everyone when `text` is empty. One page, ordered by name, plus whether more follow.
pub async fn search(
    pool: &PgPool,
    account_id: Uuid,
    text: &str,
    salesforce_id: Option<&SalesforceId>,
    page: u32,
) -> sqlx::Result<(Vec<UserSummary>, bool)> {
    let rows = sqlx::query_as!(
        UserRow,
        "select id, name, email, role, salesforce_id, manage_customer_data from users
         where account_id = $1
           and ($2 = '' or name ilike $3 escape '\\' or email ilike $3 escape '\\' or salesforce_id = $4)
         order by lower(name), id
         limit $5 offset $6",
        account_id,
        text,
        like_pattern_containing(text),
        salesforce_id.map(SalesforceId::as_str),
        USER_PAGE_SIZE + 1,
        i64::from(page) * USER_PAGE_SIZE
    )
    .fetch_all(pool)
    .await?;
    let has_more = rows.len() as i64 > USER_PAGE_SIZE;
    Ok((
        rows.into_iter()
            .take(USER_PAGE_SIZE as usize)
            .map(UserRow::into_summary)
            .collect(),
        has_more,
    ))
}

/// The names of the account's Admins, by name: who can turn the account setting on and give the permission.
pub async fn admin_names(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select name from users where account_id = $1 and role = 'admin' order by lower(name), id",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await
}

/// The id of the Admin of account `account_id` whose email is `email` (in any case), if there is one.
pub async fn admin_of_account(
    pool: &PgPool,
    account_id: Uuid,
    email: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "select id from users where account_id = $1 and lower(email) = lower($2) and role = 'admin'",
        account_id,
        email.trim()
    )
    .fetch_optional(pool)
    .await
}

/// One user of the account, with when they were created.
pub async fn find_in_account(
    pool: &PgPool,
    account_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<(UserSummary, OffsetDateTime)>> {
    let row = sqlx::query!(
        "select id, name, email, role, salesforce_id, manage_customer_data, created_at
         from users where account_id = $1 and id = $2",
        account_id,
        user_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        let user = UserRow {
            id: r.id,
            name: r.name,
            email: r.email,
            role: r.role,
            salesforce_id: r.salesforce_id,
            manage_customer_data: r.manage_customer_data,
        };
        (user.into_summary(), r.created_at)
    }))
}

/// Grants or revokes Manage Customer Data and records who did it, in one transaction. The row is locked so
/// concurrent changes apply one after the other; the CHECK constraint keeps Agents from ever holding it.
/// Returns the user as saved.
pub async fn set_customer_data_permission(
    pool: &PgPool,
    account_id: Uuid,
    actor_id: Uuid,
    user_id: Uuid,
    enabled: bool,
) -> sqlx::Result<Option<UserSummary>> {
    let mut tx = pool.begin().await?;
    let before = sqlx::query_scalar!(
        "select manage_customer_data from users where account_id = $1 and id = $2 for update",
        account_id,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(before) = before else {
        return Ok(None);
    };
    let row = sqlx::query_as!(
        UserRow,
        "update users set manage_customer_data = $3 where account_id = $1 and id = $2
         returning id, name, email, role, salesforce_id, manage_customer_data",
        account_id,
        user_id,
        enabled
    )
    .fetch_one(&mut *tx)
    .await?;
    if before != enabled {
        let action = if enabled {
            Action::CustomerDataPermissionGranted
        } else {
            Action::CustomerDataPermissionRevoked
        };
        let entry = Entry::new(account_id, Actor::User(actor_id), action).target_user(user_id);
        audit_log::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(Some(row.into_summary()))
}

/// Creates a user; `None` when the email is already taken. Admin or Agent, without the permission.
pub async fn create(
    pool: &PgPool,
    account_id: Uuid,
    name: &str,
    email: &str,
    role: Role,
    salesforce_id: Option<&SalesforceId>,
    password_hash: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "insert into users (account_id, name, email, role, salesforce_id, password_hash)
         values ($1, $2, $3, $4, $5, $6)
         on conflict ((lower(email))) do nothing
         returning id",
        account_id,
        name,
        email,
        role_to_db(role),
        salesforce_id.map(SalesforceId::as_str),
        password_hash
    )
    .fetch_optional(pool)
    .await
}
