//! Every permission rule of the console, in one place. Server functions load the signed-in `Principal` fresh
//! from the database on each call (so a change applies on the very next request) and ask this module; pages
//! only mirror the answers. The rules (DESIGN.md, "Who may do what"):
//! - Admins use the Admin Console: account settings, finding users, granting Manage Customer Data, ending a
//!   user's sessions; all only for their own account (another account's user is not found).
//! - Every signed-in user may end their own other sessions.
//! - Customer Data needs an Admin who holds Manage Customer Data while the account setting is on.
//! - Only Admins can hold the permission, and only an Admin of the same account can grant it.
//! - Agents may sign in and nothing more.
//! - The irreversible step (an erasure) needs a password entered in the last 15 minutes (at sign-in or again).
//! - An API token acts in its own account only, within its scopes, and only while the account setting is on.

use uuid::Uuid;

use crate::error::AppError;
use crate::model::{Access, Refusal, Role, SearchKind, Viewer};

/// The signed-in user with everything the rules need, as read from the database for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's id.
    pub user_id: Uuid,
    /// The user's account: every query the user's requests make is confined to it.
    pub account_id: Uuid,
    /// The user's full name.
    pub name: String,
    /// The email the user signs in with.
    pub email: String,
    /// The user's role.
    pub role: Role,
    /// The user's own grant; it counts only while the account setting is on.
    pub holds_customer_data_permission: bool,
    /// The name of the user's account.
    pub account_name: String,
    /// Whether the account's Manage Customer Data setting is on.
    pub account_customer_data_enabled: bool,
    /// The account's country (ISO 3166, e.g. `US`) for phone numbers written without a country code.
    pub account_default_country: String,
}

/// The part of another user the grant rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantTarget {
    /// The account the user belongs to.
    pub account_id: Uuid,
    /// The user's role: only an Admin can be granted the permission.
    pub role: Role,
}

/// What an API token may do (`api_tokens.scopes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiScope {
    /// Read erasure requests and their receipts.
    RequestsRead,
    /// Create and cancel erasure requests.
    RequestsWrite,
    /// Read the audit log.
    AuditRead,
    /// Record calls and messages.
    Ingest,
}

impl ApiScope {
    /// Every scope.
    pub const ALL: [ApiScope; 4] = [
        ApiScope::RequestsRead,
        ApiScope::RequestsWrite,
        ApiScope::AuditRead,
        ApiScope::Ingest,
    ];

    /// The scope as tokens store and the command line writes it.
    pub fn key(self) -> &'static str {
        match self {
            ApiScope::RequestsRead => "requests:read",
            ApiScope::RequestsWrite => "requests:write",
            ApiScope::AuditRead => "audit:read",
            ApiScope::Ingest => "ingest",
        }
    }

    /// The scope whose key is `key`, if any.
    pub fn from_key(key: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|scope| scope.key() == key)
    }
}

/// The API token a request presented, with what the rules need, read from the database for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPrincipal {
    /// The token's id (the audit log's actor for what it does).
    pub token_id: Uuid,
    /// The token's account: everything it reads or writes is confined to it.
    pub account_id: Uuid,
    /// What it may do.
    pub scopes: Vec<ApiScope>,
    /// Whether the account's Manage Customer Data setting is on.
    pub account_customer_data_enabled: bool,
    /// The Admin who made it, whom the erasure requests it makes are requested by (none when it was made from
    /// the command line without `--admin`).
    pub created_by: Option<Uuid>,
}

/// Every /api/v1 operation: the account setting must be on and the token must hold `scope`.
pub fn require_scope(token: &TokenPrincipal, scope: ApiScope) -> Result<(), AppError> {
    if !token.account_customer_data_enabled {
        Err(AppError::forbidden(
            "Manage Customer Data is turned off for this token's account.",
        ))
    } else if !token.scopes.contains(&scope) {
        Err(AppError::forbidden(&format!(
            "This token does not have the {} scope.",
            scope.key()
        )))
    } else {
        Ok(())
    }
}

const ADMINS_ONLY: &str = "Only Admins can use the Admin Console.";
const NO_CUSTOMER_DATA_ACCESS: &str =
    "You do not have the Manage Customer Data permission, or it is turned off for your account.";

/// Whether the user may use the Admin Console (settings, users, grants, ending sessions): any Admin.
pub fn can_use_admin_console(p: &Principal) -> bool {
    p.role == Role::Admin
}

/// Whether the user may use Customer Data (search, customer pages, erasure): an Admin holding Manage Customer
/// Data while the account setting is on.
pub fn can_manage_customer_data(p: &Principal) -> bool {
    p.role == Role::Admin && p.holds_customer_data_permission && p.account_customer_data_enabled
}

/// How long after the user last entered their password an erasure goes ahead without asking for it again.
pub const REAUTHENTICATE_AFTER_MINUTES: i64 = 15;

/// The irreversible step (erasing a record's data): only when the session's user entered their password within
/// `REAUTHENTICATE_AFTER_MINUTES`; otherwise `PasswordRequired`.
pub fn require_recent_password(entered_recently: bool) -> Result<(), AppError> {
    if entered_recently {
        Ok(())
    } else {
        Err(AppError::PasswordRequired)
    }
}

/// Account settings, user search, user profiles and ending a user's sessions.
pub fn require_admin(p: &Principal) -> Result<(), AppError> {
    if can_use_admin_console(p) {
        Ok(())
    } else {
        Err(AppError::forbidden(ADMINS_ONLY))
    }
}

/// Everything under Customer Data: search, view, erase.
pub fn require_customer_data_access(p: &Principal) -> Result<(), AppError> {
    if can_manage_customer_data(p) {
        Ok(())
    } else {
        Err(AppError::forbidden(NO_CUSTOMER_DATA_ACCESS))
    }
}

/// Saving and reading a search: the rule of the search itself (customers: Customer Data; users: Admins).
pub fn require_search(p: &Principal, kind: SearchKind) -> Result<(), AppError> {
    match kind {
        SearchKind::Customers => require_customer_data_access(p),
        SearchKind::Users => require_admin(p),
    }
}

/// Reading a user: only within the actor's own account. Another account's user is reported as not found, so
/// ids reveal nothing across tenants.
pub fn require_same_account(p: &Principal, target_account: Uuid) -> Result<(), AppError> {
    require_admin(p)?;
    if p.account_id == target_account {
        Ok(())
    } else {
        Err(AppError::not_found("No such user in your account."))
    }
}

/// Granting or revoking Manage Customer Data on a user.
pub fn check_permission_change(
    p: &Principal,
    target: GrantTarget,
    enabled: bool,
) -> Result<(), AppError> {
    require_same_account(p, target.account_id)?;
    if !enabled {
        return Ok(());
    }
    if target.role != Role::Admin {
        return Err(AppError::invalid(
            "Manage Customer Data can only be given to Admins.",
        ));
    }
    if !p.account_customer_data_enabled {
        return Err(AppError::conflict(
            "Turn on Manage Customer Data for the account (Admin Console, General Settings) first.",
        ));
    }
    Ok(())
}

/// Whether the profile page offers the toggle for a user: account setting on and the user an Admin.
pub fn permission_toggle_visible(account_setting_enabled: bool, target_role: Role) -> bool {
    account_setting_enabled && target_role == Role::Admin
}

/// Why the user may not use Customer Data, naming the rule that refuses, or `None` when they may. `admins` are
/// the names of the account's Admins, who can change it. The rules are asked in the order a new Admin meets
/// them: the role, then the account setting, then the user's own permission.
pub fn customer_data_refusal(p: &Principal, admins: Vec<String>) -> Option<Refusal> {
    if can_manage_customer_data(p) {
        None
    } else if p.role != Role::Admin {
        Some(Refusal::AdminsOnly { admins })
    } else if !p.account_customer_data_enabled {
        Some(Refusal::SettingOff {
            admins,
            holds_permission: p.holds_customer_data_permission,
        })
    } else {
        Some(Refusal::NoPermission { admins })
    }
}

/// Why the user may not use the Admin Console, or `None` when they may (an Admin).
pub fn admin_console_refusal(p: &Principal, admins: Vec<String>) -> Option<Refusal> {
    (!can_use_admin_console(p)).then_some(Refusal::AdminsOnly { admins })
}

/// What the user may open and why not the rest, with the names of the account's Admins in each refusal.
pub fn access(p: &Principal, admins: Vec<String>) -> Access {
    Access {
        customer_data: customer_data_refusal(p, admins.clone()),
        admin_console: admin_console_refusal(p, admins),
    }
}

/// Whether explaining a refusal to the user needs the names of the account's Admins: whether anything is
/// refused at all.
pub fn refuses_anything(p: &Principal) -> bool {
    !can_manage_customer_data(p) || !can_use_admin_console(p)
}

/// What the shell shows this user.
pub fn viewer(p: &Principal) -> Viewer {
    Viewer {
        user_id: p.user_id,
        name: p.name.clone(),
        email: p.email.clone(),
        role: p.role,
        account_name: p.account_name.clone(),
        can_use_admin_console: can_use_admin_console(p),
        can_manage_customer_data: can_manage_customer_data(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, holds: bool, setting: bool) -> Principal {
        Principal {
            user_id: Uuid::from_u128(1),
            account_id: Uuid::from_u128(100),
            name: "Test".into(),
            email: "t@example.com".into(),
            role,
            holds_customer_data_permission: holds,
            account_name: "Acme".into(),
            account_customer_data_enabled: setting,
            account_default_country: "US".into(),
        }
    }

    const OWN: Uuid = Uuid::from_u128(100);
    const OTHER: Uuid = Uuid::from_u128(200);

    #[test]
    fn agents_cannot_use_the_admin_console() {
        for (holds, setting) in [(false, false), (false, true)] {
            let agent = principal(Role::Agent, holds, setting);
            assert_eq!(require_admin(&agent).unwrap_err().status(), 403);
            assert!(!viewer(&agent).can_use_admin_console);
        }
    }

    #[test]
    fn admins_use_the_admin_console_whatever_the_setting() {
        for setting in [false, true] {
            assert!(require_admin(&principal(Role::Admin, false, setting)).is_ok());
        }
    }

    #[test]
    fn customer_data_needs_admin_permission_and_setting_together() {
        for role in [Role::Admin, Role::Agent] {
            for holds in [false, true] {
                for setting in [false, true] {
                    let p = principal(role, holds, setting);
                    let expected = role == Role::Admin && holds && setting;
                    assert_eq!(
                        require_customer_data_access(&p).is_ok(),
                        expected,
                        "{role:?} {holds} {setting}"
                    );
                    assert_eq!(viewer(&p).can_manage_customer_data, expected);
                }
            }
        }
    }

    #[test]
    fn a_refusal_names_the_first_rule_that_refuses_and_agrees_with_the_rule() {
        let admins = || vec!["Alex Admin".to_owned()];
        for role in [Role::Admin, Role::Agent] {
            for holds in [false, true] {
                for setting in [false, true] {
                    let p = principal(role, holds, setting);
                    let refusal = customer_data_refusal(&p, admins());
                    assert_eq!(refusal.is_none(), require_customer_data_access(&p).is_ok());
                    let expected = match (role, setting, holds) {
                        (Role::Agent, _, _) => Some(Refusal::AdminsOnly { admins: admins() }),
                        (Role::Admin, false, holds) => Some(Refusal::SettingOff {
                            admins: admins(),
                            holds_permission: holds,
                        }),
                        (Role::Admin, true, false) => {
                            Some(Refusal::NoPermission { admins: admins() })
                        }
                        (Role::Admin, true, true) => None,
                    };
                    assert_eq!(refusal, expected, "{role:?} {holds} {setting}");
                    assert_eq!(
                        access(&p, admins()).admin_console.is_none(),
                        require_admin(&p).is_ok()
                    );
                    assert_eq!(
                        refuses_anything(&p),
                        require_admin(&p).is_err() || require_customer_data_access(&p).is_err()
                    );
                }
            }
        }
    }

    #[test]
    fn an_erasure_asks_for_the_password_once_the_sign_in_is_old() {
        assert!(require_recent_password(true).is_ok());
        assert_eq!(
            require_recent_password(false),
            Err(AppError::PasswordRequired)
        );
    }

    #[test]
    fn each_search_kind_keeps_the_rule_of_its_search() {
        for role in [Role::Admin, Role::Agent] {
            for holds in [false, true] {
                for setting in [false, true] {
                    let p = principal(role, holds, setting);
                    assert_eq!(
                        require_search(&p, SearchKind::Customers),
                        require_customer_data_access(&p)
                    );
                    assert_eq!(require_search(&p, SearchKind::Users), require_admin(&p));
                }
            }
        }
    }

    #[test]
    fn admins_grant_to_admins_of_their_own_account_while_the_setting_is_on() {
        let admin = principal(Role::Admin, false, true);
        let target = GrantTarget {
            account_id: OWN,
            role: Role::Admin,
        };
        assert!(check_permission_change(&admin, target, true).is_ok());
        assert!(check_permission_change(&admin, target, false).is_ok());
    }

    #[test]
    fn granting_to_an_agent_is_refused_with_a_clear_message() {
        let admin = principal(Role::Admin, false, true);
        let err = check_permission_change(
            &admin,
            GrantTarget {
                account_id: OWN,
                role: Role::Agent,
            },
            true,
        )
        .unwrap_err();
        assert_eq!(err.status(), 422);
        assert!(err.to_string().contains("only be given to Admins"));
    }

    #[test]
    fn another_accounts_user_is_not_found() {
        let admin = principal(Role::Admin, false, true);
        let target = GrantTarget {
            account_id: OTHER,
            role: Role::Admin,
        };
        assert_eq!(
            check_permission_change(&admin, target, true)
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            check_permission_change(&admin, target, false)
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            require_same_account(&admin, OTHER).unwrap_err().status(),
            404
        );
    }

    #[test]
    fn grants_wait_for_the_account_setting_but_revokes_do_not() {
        let admin = principal(Role::Admin, false, false);
        let target = GrantTarget {
            account_id: OWN,
            role: Role::Admin,
        };
        assert_eq!(
            check_permission_change(&admin, target, true)
                .unwrap_err()
                .status(),
            409
        );
        assert!(check_permission_change(&admin, target, false).is_ok());
    }

    #[test]
    fn agents_cannot_grant_or_revoke() {
        let agent = principal(Role::Agent, false, true);
        let target = GrantTarget {
            account_id: OWN,
            role: Role::Admin,
        };
        for enabled in [true, false] {
            assert_eq!(
                check_permission_change(&agent, target, enabled)
                    .unwrap_err()
                    .status(),
                403
            );
        }
    }

    #[test]
    fn the_toggle_shows_only_for_admins_while_the_setting_is_on() {
        assert!(permission_toggle_visible(true, Role::Admin));
        assert!(!permission_toggle_visible(false, Role::Admin));
        assert!(!permission_toggle_visible(true, Role::Agent));
        assert!(!permission_toggle_visible(false, Role::Agent));
    }

    #[test]
    fn a_token_needs_its_scope_and_the_account_setting_on() {
        let token = TokenPrincipal {
            token_id: Uuid::from_u128(1),
            account_id: Uuid::from_u128(2),
            scopes: vec![ApiScope::AuditRead],
            account_customer_data_enabled: true,
            created_by: None,
        };
        assert!(require_scope(&token, ApiScope::AuditRead).is_ok());
        assert_eq!(
            require_scope(&token, ApiScope::RequestsWrite)
                .map_err(|e| e.status())
                .unwrap_err(),
            403
        );
        let off = TokenPrincipal {
            account_customer_data_enabled: false,
            ..token
        };
        assert_eq!(
            require_scope(&off, ApiScope::AuditRead)
                .map_err(|e| e.status())
                .unwrap_err(),
            403
        );
        for scope in ApiScope::ALL {
            assert_eq!(ApiScope::from_key(scope.key()), Some(scope));
        }
    }
}
