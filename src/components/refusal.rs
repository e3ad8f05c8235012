//! A refusal shown in place of a page's controls: which rule refuses (the role, the account setting or the
//! user's own permission), who can change it (the account's Admins, by name) and where.

use leptos::prelude::*;

use crate::components::notice::{Notice, Tone};
use crate::model::Refusal;

/// Why the user cannot use `part` of the console, and who can change that, as `authz` decided it.
#[component]
pub fn RefusalNotice(
    /// What is refused, as the headline names it: "Customer Data" or "The Admin Console".
    part: &'static str,
    /// The refusal, with the names of the account's Admins.
    refusal: Refusal,
) -> impl IntoView {
    let admins = admin_list(refusal.admins());
    let body = match refusal {
        Refusal::AdminsOnly { .. } if part == ADMIN_CONSOLE => view! {
            <p><strong>"Only Admins can use the Admin Console."</strong></p>
            <p>"You are signed in as an Agent. Your account's Admins: " {admins} "."</p>
        }
        .into_any(),
        Refusal::AdminsOnly { .. } => view! {
            <p><strong>{format!("{part} is for Admins.")}</strong></p>
            <p>
                "You are signed in as an Agent, and only Admins can be given the Manage Customer Data permission. "
                "Your account's Admins: " {admins} "."
            </p>
        }
        .into_any(),
        Refusal::SettingOff {
            holds_permission, ..
        } => view! {
            <p><strong>"Manage Customer Data is turned off for your account."</strong></p>
            <p>
                "An Admin turns it on under Admin Console > Overview"
                {(!holds_permission).then_some(", then gives you the permission under Users > Manage")}
                ". Your account's Admins: " {admins} "."
            </p>
            <p>"As an Admin, you can do this yourself: " <a href="/admin">"Open the Admin Console"</a></p>
        }
        .into_any(),
        Refusal::NoPermission { .. } => view! {
            <p><strong>"You do not have the Manage Customer Data permission."</strong></p>
            <p>"Any Admin of your account can give it to you under Users > Manage. Your account's Admins: " {admins} "."</p>
            <p>"As an Admin, you can give it to yourself: " <a href="/users">"Open Users > Manage"</a></p>
        }
        .into_any(),
    };
    view! { <Notice tone=Tone::Warning>{body}</Notice> }
}

/// The headline name of the Admin Console for `RefusalNotice`.
pub const ADMIN_CONSOLE: &str = "The Admin Console";

/// The Admins' names as a sentence lists them: "A", "A and B", "A, B and C"; "none" when there is none.
fn admin_list(names: &[String]) -> String {
    match names {
        [] => "none".to_owned(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::admin_list;

    #[test]
    fn admins_are_listed_as_a_sentence() {
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(admin_list(&names(&[])), "none");
        assert_eq!(admin_list(&names(&["Alex Admin"])), "Alex Admin");
        assert_eq!(
            admin_list(&names(&["Alex Admin", "Blair Admin", "Dana Other"])),
            "Alex Admin, Blair Admin and Dana Other"
        );
    }
}
