//! Every endpoint times every actor. The endpoint list is checked against the server functions registered in
//! the binary, so a new server function without a row here fails this test. After each call the database
//! snapshot (sessions and sign-in records included) is unchanged but for what the call itself is for: the
//! refused sign-in's one failure, a sign-out's own session, an erasure, and for an allowed call the audit log
//! entry that records it (a refused call appends nothing). GETs do nothing and foreign-origin POSTs are refused
//! everywhere.

mod common;

use std::collections::BTreeSet;

use common::*;
use customer_data_console::api::customers::ERASE_CONFIRMATION;
use reqwest::StatusCode;
use sqlx::PgPool;

use Actor::*;

struct Ids {
    blair: String,
    casey: String,
    jordan_lead: String,
    jordan_contact: String,
    /// A cancelled erasure request of Alex's for Jordan's Lead.
    request: String,
    /// Alex's saved searches: of customers (for Jordan's email) and of users.
    alex_customer_search: String,
    alex_user_search: String,
}

/// One row of the matrix: the endpoint, its form, and the status each actor gets.
struct Endpoint {
    path: &'static str,
    form: fn(&Ids, Actor) -> Vec<(&'static str, String)>,
    expected: fn(Actor) -> u16,
}

fn admin_ok(actor: Actor) -> u16 {
    match actor {
        SignedOut => 401,
        Agent => 403,
        _ => 200,
    }
}

/// For a user of Acme: as `admin_ok`, but another account's Admin does not find the user.
fn admin_ok_in_the_users_account(actor: Actor) -> u16 {
    if actor == AdminOfAnotherAccount {
        404
    } else {
        admin_ok(actor)
    }
}

/// A saved search is read only by the Admin who saved it (Alex): as `admin_ok` for a user search and as
/// `customer_data` for a customer search, but any other Admin does not find it.
fn own_search(actor: Actor, allowed: u16) -> u16 {
    match actor {
        AdminWithoutPermission | AdminOfAnotherAccount if allowed == 200 => 404,
        _ => allowed,
    }
}

fn customer_data(actor: Actor, other_account: u16) -> u16 {
    match actor {
        SignedOut => 401,
        AdminWithAccess => 200,
        AdminOfAnotherAccount => other_account,
        _ => 403,
    }
}

/// `then` where access was `allowed` (200), the refusal otherwise.
fn after_access(allowed: u16, then: u16) -> u16 {
    if allowed == 200 { then } else { allowed }
}

/// Ordered so that state-changing calls that succeed come last and change nothing the earlier rows rely on.
const MATRIX: &[Endpoint] = &[
    Endpoint {
        path: "/api/auth/viewer",
        form: |_, _| vec![],
        expected: |_| 200,
    },
    Endpoint {
        path: "/api/auth/access",
        form: |_, _| vec![],
        expected: |a| if a == SignedOut { 401 } else { 200 },
    },
    Endpoint {
        path: "/api/settings/account",
        form: |_, _| vec![],
        expected: admin_ok,
    },
    Endpoint {
        path: "/api/settings/customer-data",
        // Saves the value the actor's account already has: allowed, and a no-op.
        form: |_, actor| {
            vec![(
                "enabled",
                (actor != AdminWithPermissionSettingOff && actor != SignedOut).to_string(),
            )]
        },
        expected: admin_ok,
    },
    Endpoint {
        path: "/api/users/search",
        form: |_, _| vec![("query", "blair".into())],
        expected: admin_ok,
    },
    Endpoint {
        path: "/api/users/profile",
        form: |ids, _| vec![("user_id", ids.blair.clone())],
        expected: admin_ok_in_the_users_account,
    },
    Endpoint {
        path: "/api/users/customer-data-permission",
        form: |ids, _| vec![("user_id", ids.casey.clone()), ("enabled", "false".into())],
        expected: admin_ok_in_the_users_account,
    },
    Endpoint {
        path: "/api/customers/search",
        form: |_, _| vec![("query", JORDAN.into())],
        expected: |a| customer_data(a, 200),
    },
    Endpoint {
        path: "/api/customers/saved-search",
        form: |ids, _| vec![("search_id", ids.alex_customer_search.clone())],
        expected: |a| own_search(a, customer_data(a, 200)),
    },
    Endpoint {
        path: "/api/users/saved-search",
        form: |ids, _| vec![("search_id", ids.alex_user_search.clone())],
        expected: |a| own_search(a, admin_ok(a)),
    },
    Endpoint {
        path: "/api/audit/list",
        form: |_, _| vec![("action", "customer_searched".into())],
        expected: |a| customer_data(a, 200),
    },
    Endpoint {
        path: "/api/audit/overview",
        form: |_, _| Vec::new(),
        expected: |a| customer_data(a, 200),
    },
    Endpoint {
        path: "/api/tokens/list",
        form: |_, _| Vec::new(),
        expected: admin_ok,
    },
    Endpoint {
        path: "/api/tokens/create",
        form: |_, _| {
            vec![
                ("name", "privacy platform".into()),
                ("scopes", "requests:read".into()),
                ("expires_days", "30".into()),
            ]
        },
        expected: admin_ok,
    },
    Endpoint {
        path: "/api/tokens/revoke",
        form: |_, _| vec![("token_id", uuid::Uuid::from_u128(7).to_string())],
        expected: |a| after_access(admin_ok(a), 404),
    },
    Endpoint {
        path: "/api/suppressions/list",
        form: |_, _| Vec::new(),
        expected: |a| customer_data(a, 200),
    },
    Endpoint {
        path: "/api/suppressions/lift",
        form: |_, _| {
            vec![
                ("suppression_id", uuid::Uuid::from_u128(7).to_string()),
                ("reason", "Asked to be contacted again".into()),
            ]
        },
        expected: |a| after_access(customer_data(a, 200), 404),
    },
    Endpoint {
        path: "/api/bulk/list",
        form: |_, _| Vec::new(),
        expected: |a| customer_data(a, 200),
    },
    // A bulk job no account has: the actor allowed in finds none, and nothing changes.
    Endpoint {
        path: "/api/bulk/get",
        form: |_, _| vec![("job_id", uuid::Uuid::from_u128(7).to_string())],
        expected: |a| after_access(customer_data(a, 404), 404),
    },
    Endpoint {
        path: "/api/bulk/progress",
        form: |_, _| vec![("job_id", uuid::Uuid::from_u128(7).to_string())],
        expected: |a| after_access(customer_data(a, 404), 404),
    },
    Endpoint {
        path: "/api/bulk/confirm",
        form: |_, _| {
            vec![
                ("job_id", uuid::Uuid::from_u128(7).to_string()),
                ("confirmation", "DELETE".into()),
                ("persons", "1".into()),
            ]
        },
        expected: |a| after_access(customer_data(a, 404), 404),
    },
    Endpoint {
        path: "/api/bulk/decide",
        form: |_, _| {
            vec![
                ("job_id", uuid::Uuid::from_u128(7).to_string()),
                ("approve", "true".into()),
            ]
        },
        expected: |a| after_access(customer_data(a, 404), 404),
    },
    Endpoint {
        path: "/api/requests/list",
        form: |_, _| vec![("state", "cancelled".into())],
        expected: |a| customer_data(a, 200),
    },
    Endpoint {
        path: "/api/requests/detail",
        form: |ids, _| vec![("request_id", ids.request.clone())],
        expected: |a| customer_data(a, 404),
    },
    Endpoint {
        path: "/api/requests/open",
        form: |_, _| vec![],
        expected: |a| customer_data(a, 200),
    },
    Endpoint {
        path: "/api/settings/erasure-policy/current",
        form: |_, _| vec![],
        expected: admin_ok,
    },
    Endpoint {
        path: "/api/settings/erasure-policy",
        // Saves the policy every account has: allowed, and a no-op.
        form: |_, _| vec![("hold_hours", "0".into()), ("deadline_days", "30".into())],
        expected: admin_ok,
    },
    // The four steps of a held request, on the cancelled request: the one actor they allow finds it in a
    // state they cannot take it from (409), and nothing changes.
    Endpoint {
        path: "/api/requests/approve",
        form: |ids, _| vec![("request_id", ids.request.clone())],
        expected: |a| after_access(customer_data(a, 404), 409),
    },
    Endpoint {
        path: "/api/requests/reject",
        form: |ids, _| {
            vec![
                ("request_id", ids.request.clone()),
                ("reason", "Not this person".into()),
            ]
        },
        expected: |a| after_access(customer_data(a, 404), 409),
    },
    Endpoint {
        path: "/api/requests/cancel",
        form: |ids, _| vec![("request_id", ids.request.clone())],
        expected: |a| after_access(customer_data(a, 404), 409),
    },
    Endpoint {
        path: "/api/requests/erase-now",
        form: |ids, _| vec![("request_id", ids.request.clone())],
        expected: |a| after_access(customer_data(a, 404), 409),
    },
    Endpoint {
        path: "/api/customers/detail",
        form: |ids, _| vec![("customer_id", ids.jordan_lead.clone())],
        expected: |a| customer_data(a, 404),
    },
    // Keeps a search: the one row it adds is checked below.
    Endpoint {
        path: "/api/searches",
        form: |_, _| vec![("kind", "customers".into()), ("query", JORDAN.into())],
        expected: |a| match customer_data(a, 200) {
            200 => 303,
            refused => refused,
        },
    },
    Endpoint {
        path: "/api/customers/erase",
        form: |ids, _| {
            vec![
                ("customer_id", ids.jordan_lead.clone()),
                ("confirmation", ERASE_CONFIRMATION.into()),
            ]
        },
        expected: |a| customer_data(a, 404),
    },
    // After the row above erased Jordan's Lead (for the one actor it allows), the search for Jordan's email
    // finds the Contact alone not yet erased: the request names exactly that.
    Endpoint {
        path: "/api/requests/create",
        form: |ids, _| {
            vec![
                ("customer_ids", ids.jordan_contact.clone()),
                ("query", JORDAN.into()),
                ("confirmation", ERASE_CONFIRMATION.into()),
            ]
        },
        expected: |a| customer_data(a, 404),
    },
    Endpoint {
        path: "/api/auth/end-other-sessions",
        // The actor's only session is the one calling: nothing else to end.
        form: |_, _| vec![],
        expected: |a| if a == SignedOut { 401 } else { 200 },
    },
    Endpoint {
        path: "/api/users/end-sessions",
        // Casey has no session in these tests (as the Agent actor, Casey is refused first).
        form: |ids, _| vec![("user_id", ids.casey.clone())],
        expected: |a| {
            if a == AdminOfAnotherAccount {
                404
            } else {
                admin_ok(a)
            }
        },
    },
    Endpoint {
        path: "/api/auth/login",
        form: |_, _| {
            vec![
                ("email", "nobody@acme.example".into()),
                ("password", "wrong".into()),
            ]
        },
        expected: |_| 401,
    },
    Endpoint {
        path: "/api/auth/logout",
        form: |_, _| vec![],
        expected: |a| if a == SignedOut { 401 } else { 200 },
    },
];

#[test]
fn every_registered_server_function_has_a_row() {
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    let covered: BTreeSet<String> = MATRIX.iter().map(|e| e.path.to_owned()).collect();
    assert_eq!(registered, covered, "add a matrix row for each endpoint");
}

async fn ids(console: &Console) -> Ids {
    let (jordan_lead, jordan_contact) = jordans(console).await;
    Ids {
        blair: console.user_id(BLAIR).await.to_string(),
        casey: console.user_id(CASEY).await.to_string(),
        jordan_lead: jordan_lead.to_string(),
        jordan_contact: jordan_contact.to_string(),
        request: console.cancelled_request(jordan_lead).await.to_string(),
        alex_customer_search: console
            .saved_search(ALEX, "customers", JORDAN)
            .await
            .to_string(),
        alex_user_search: console
            .saved_search(ALEX, "users", "blair")
            .await
            .to_string(),
    }
}

/// The failed sign-in the matrix's login row writes: its wrong password for an unknown email.
const REFUSED_SIGN_IN: &str = "nobody@acme.example";

async fn run_row_of_actor(pool: PgPool, actor: Actor) {
    let console = Console::start(pool).await;
    let client = console.client_of(actor).await;
    let ids = ids(&console).await;
    for endpoint in MATRIX {
        let form = (endpoint.form)(&ids, actor);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let before = console.snapshot().await;
        let outside_the_log = console.snapshot_outside_the_audit_log().await;
        let sessions_before: i64 = scalar(&console.pool, "select count(*) from sessions").await;
        let rest_before = console
            .snapshot_except(&["sessions", "audit_log", "audit_heads"])
            .await;
        let searches_before: i64 =
            scalar(&console.pool, "select count(*) from saved_searches").await;
        let all_but_searches = console.snapshot_except(&["saved_searches"]).await;
        let (status, body) = client.post(endpoint.path, &pairs).await;
        let expected = (endpoint.expected)(actor);
        assert_eq!(
            status.as_u16(),
            expected,
            "{actor:?} on {}: {body}",
            endpoint.path
        );
        assert_no_internal_text(&body);
        let failures = console.take_login_failures().await;
        let expected_failures: &[&str] = if endpoint.path == "/api/auth/login" {
            &[REFUSED_SIGN_IN]
        } else {
            &[]
        };
        assert_eq!(
            failures, expected_failures,
            "{actor:?} on {}",
            endpoint.path
        );
        match (endpoint.path, status) {
            // The erasure's own changes are checked by the erasure tests.
            ("/api/customers/erase" | "/api/requests/create", StatusCode::OK) => {}
            ("/api/searches", StatusCode::SEE_OTHER) => {
                let searches: i64 =
                    scalar(&console.pool, "select count(*) from saved_searches").await;
                assert_eq!(searches, searches_before + 1, "{actor:?}'s search was kept");
                assert_eq!(
                    console.snapshot_except(&["saved_searches"]).await,
                    all_but_searches,
                    "{actor:?}'s search changed more than its saved search"
                );
            }
            ("/api/auth/logout", StatusCode::OK) => {
                let sessions: i64 = scalar(&console.pool, "select count(*) from sessions").await;
                assert_eq!(sessions, sessions_before - 1, "{actor:?}'s session ended");
                assert_eq!(
                    console
                        .snapshot_except(&["sessions", "audit_log", "audit_heads"])
                        .await,
                    rest_before,
                    "{actor:?}'s sign-out changed more than its session"
                );
            }
            // An allowed call may append the act to the audit log (a search, a page view), nothing else.
            (_, status) if status.is_success() => assert_eq!(
                console.snapshot_outside_the_audit_log().await,
                outside_the_log,
                "{actor:?} on {} changed the database",
                endpoint.path
            ),
            _ => assert_eq!(
                console.snapshot().await,
                before,
                "{actor:?} on {} changed the database",
                endpoint.path
            ),
        }
    }
}

// One test per actor, each running that actor's row of the matrix on its own database.
crate::one_test_per_actor!(run_row_of_actor);

#[sqlx::test]
async fn gets_and_foreign_origins_change_nothing_on_any_endpoint(pool: PgPool) {
    let console = Console::start(pool).await;
    let client = console.client_of(AdminWithAccess).await;
    let ids = ids(&console).await;
    for endpoint in MATRIX {
        let form = (endpoint.form)(&ids, AdminWithAccess);
        let before = console.snapshot().await;
        let get = client
            .http
            .get(console.url(endpoint.path))
            .query(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            get.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "GET {}",
            endpoint.path
        );
        let foreign = client
            .post_with_headers(
                endpoint.path,
                &[("origin", "https://attacker.example")],
                &form,
            )
            .await;
        assert_eq!(
            foreign,
            StatusCode::FORBIDDEN,
            "foreign POST {}",
            endpoint.path
        );
        let cross = client
            .post_with_headers(endpoint.path, &[("sec-fetch-site", "cross-site")], &form)
            .await;
        assert_eq!(
            cross,
            StatusCode::FORBIDDEN,
            "cross-site POST {}",
            endpoint.path
        );
        assert_eq!(
            console.snapshot().await,
            before,
            "{} changed the database",
            endpoint.path
        );
    }
    let (_, viewer) = client.post("/api/auth/viewer", &[]).await;
    assert_eq!(
        viewer["email"],
        serde_json::json!(ALEX),
        "the refused logout did not end the session"
    );
}
