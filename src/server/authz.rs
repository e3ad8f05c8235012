//! Every permission rule of the console, in one place. Server functions load the signed-in `Principal` fresh
//! from the database on each call (so a change applies on the very next request) and ask this module; pages
//! only mirror the answers. The rules (DESIGN.md, "Who may do what"):
//! - Admins use the Admin Console: account settings, finding users, granting Manage Customer Data, ending a
//!   user's sessions; all only for their own account (another account's user is not found).
//! - Every signed-in user may end their own other sessions.
//! - Customer Data needs an Admin who holds Manage Customer Data while the account setting is on.
//! - Only Admins can hold the permission, and only an Admin of the same account can grant it.
//! - Agents may sign in and nothing more.

use uuid::Uuid;

use crate::error::AppError;
use crate::model::{Role, SearchKind, Viewer};

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
}
