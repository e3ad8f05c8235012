//! Every page times every actor: a customer record, an Admin's saved customer search, a user's profile, the users list and
//! the Admin Console, requested as a browser requests them by the six actors of the endpoint matrix. Signed-out
//! visitors are sent to /login with the page as `?next=`; every other actor gets the page, showing the personal data it holds (a
//! customer's email, phone, name and a message, another user's email) only to an actor entitled to it, and
//! otherwise saying why. Every page and every answer carries the security headers.

mod common;

use common::*;
use customer_data_console::api::searches::NO_SUCH_SEARCH;
use customer_data_console::format::urlencode_path;
use customer_data_console::model::Role;
use customer_data_console::server::{auth, db};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use Actor::*;

/// What an actor finds on a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Sent to the sign-in page.
    SignIn,
    /// The page with the personal data it holds.
    Shown,
    /// The page with this text and none of the personal data.
    Without(&'static str),
}

use Outcome::*;

const CUSTOMER_DATA_REFUSED: &str =
    "You do not have the Manage Customer Data permission, or it is turned off for your account.";
const ADMINS_ONLY: &str = "Only Admins can use the Admin Console.";

/// A message of Jordan's Lead that only the customer record shows.
const KNOWN_MESSAGE: &str = "Known message 5521 of the page matrix";

/// Another user of Acme, whom no actor signs in as.
const DANA: &str = "dana.other@acme.example";

/// The personal data the pages may show, and where it came from.
struct People {
    lead: Uuid,
    /// Alex's saved search for the Lead's Salesforce id.
    alex_search: Uuid,
    dana: Uuid,
    /// A cancelled erasure request of Alex's for Jordan's Lead.
    request: Uuid,
    /// Jordan's Lead: email, phone, name and the known message.
    jordan: [String; 4],
}

async fn people(console: &Console) -> People {
    let lead = jordans_lead(&console.pool).await;
    sqlx::query(
        "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
         select account_id, id, 'inbound', phone, '+14155559000', $2, now() from customers where id = $1",
    )
    .bind(lead)
    .bind(KNOWN_MESSAGE)
    .execute(&console.pool)
    .await
    .expect("the known message fits the schema");
    let (lead_salesforce_id, phone, name): (String, String, String) =
        sqlx::query_as("select salesforce_id, phone, name from customers where id = $1")
            .bind(lead)
            .fetch_one(&console.pool)
            .await
            .expect("Jordan's Lead has a Salesforce id, phone and name");
    let account: Uuid = scalar_for(
        &console.pool,
        "select account_id from users where email = $1",
        ALEX,
    )
    .await;
    let hash = auth::hash_password(PASSWORD).expect("the test password hashes");
    let dana = db::users::create(
        &console.pool,
        account,
        "Dana Other",
        DANA,
        Role::Admin,
        None,
        hash.as_str(),
    )
    .await
    .expect("Dana can be created")
    .expect("a new user");
    let alex_search = console
        .saved_search(ALEX, "customers", &lead_salesforce_id)
        .await;
    let request = console.cancelled_request(lead).await;
    sqlx::query(
        "insert into suppressions (account_id, kind, identifier_hmac, request_id)
         select account_id, 'email', decode(repeat('ab', 32), 'hex'), id from erasure_requests where id = $1",
    )
    .bind(request)
    .execute(&console.pool)
    .await
    .expect("an entry on Acme's suppression list");
    sqlx::query(
        "insert into api_tokens (id, account_id, name, scopes, secret_hash)
         select gen_random_uuid(), account_id, $1, array['audit:read'], decode(repeat('cd', 32), 'hex')
         from users where email = $2",
    )
    .bind(ACME_TOKEN)
    .bind(ALEX)
    .execute(&console.pool)
    .await
    .expect("an API token of Acme");
    People {
        lead,
        alex_search,
        dana,
        request,
        jordan: [JORDAN.to_owned(), phone, name, KNOWN_MESSAGE.to_owned()],
    }
}

/// The name of Acme's API token.
const ACME_TOKEN: &str = "Acme's privacy platform";

/// The first hex digits of the hash on Acme's suppression list.
const SUPPRESSED_HASH_PREFIX: &str = "abababababab";

/// One page of the matrix: its path, the personal data it shows an entitled actor, and what each actor finds.
struct Page {
    path: String,
    shows: Vec<String>,
    expected: fn(Actor) -> Outcome,
}

fn pages(people: &People) -> Vec<Page> {
    let [email, phone, name, message] = people.jordan.clone();
    vec![
        Page {
            path: format!("/customers/{}", people.lead),
            shows: vec![email.clone(), phone, name.clone(), message],
            expected: |actor| match actor {
                SignedOut => SignIn,
                AdminWithAccess => Shown,
                AdminOfAnotherAccount => Without("No such customer record in your account."),
                _ => Without(CUSTOMER_DATA_REFUSED),
            },
        },
        Page {
            path: format!("/customers?search={}", people.alex_search),
            shows: vec![email, name],
            expected: |actor| match actor {
                SignedOut => SignIn,
                AdminWithAccess => Shown,
                AdminOfAnotherAccount => Without(NO_SUCH_SEARCH),
                Agent => Without("Customer Data is for Admins."),
                AdminWithoutPermission => {
                    Without("You do not have the Manage Customer Data permission.")
                }
                AdminWithPermissionSettingOff => {
                    Without("Manage Customer Data is turned off for your account.")
                }
            },
        },
        Page {
            path: format!("/requests/{}", people.request),
            shows: vec![people.jordan[2].clone(), "Cancelled".to_owned()],
            expected: |actor| match actor {
                SignedOut => SignIn,
                AdminWithAccess => Shown,
                AdminOfAnotherAccount => Without("No such erasure request in your account."),
                _ => Without(CUSTOMER_DATA_REFUSED),
            },
        },
        Page {
            path: "/suppressions".to_owned(),
            shows: vec![SUPPRESSED_HASH_PREFIX.to_owned()],
            expected: |actor| match actor {
                SignedOut => SignIn,
                AdminWithAccess => Shown,
                AdminOfAnotherAccount => Without("Nobody is suppressed"),
                _ => Without(CUSTOMER_DATA_REFUSED),
            },
        },
        Page {
            path: "/audit".to_owned(),
            shows: vec![DANA.to_owned()],
            expected: |actor| match actor {
                SignedOut => SignIn,
                AdminWithAccess => Shown,
                AdminOfAnotherAccount => Without("Chain verified through #"),
                _ => Without(CUSTOMER_DATA_REFUSED),
            },
        },
        Page {
            path: "/requests".to_owned(),
            shows: vec![people.request.to_string()],
            expected: |actor| match actor {
                SignedOut => SignIn,
                AdminWithAccess => Shown,
                AdminOfAnotherAccount => Without("No requests"),
                _ => Without(CUSTOMER_DATA_REFUSED),
            },
        },
        Page {
            path: format!("/users/{}", people.dana),
            shows: vec![DANA.to_owned()],
            expected: |actor| match actor {
                SignedOut => SignIn,
                Agent => Without(ADMINS_ONLY),
                AdminOfAnotherAccount => Without("No such user in your account."),
                _ => Shown,
            },
        },
        Page {
            path: "/users".to_owned(),
            shows: vec![DANA.to_owned()],
            expected: |actor| match actor {
                SignedOut => SignIn,
                Agent => Without(ADMINS_ONLY),
                AdminOfAnotherAccount => Without(GINA),
                _ => Shown,
            },
        },
        Page {
            path: "/admin/tokens".to_owned(),
            shows: vec![ACME_TOKEN.to_owned()],
            expected: |actor| match actor {
                SignedOut => SignIn,
                Agent => Without(ADMINS_ONLY),
                AdminOfAnotherAccount => Without("No API tokens"),
                _ => Shown,
            },
        },
        Page {
            path: "/admin".to_owned(),
            shows: vec!["General Settings".to_owned()],
            expected: |actor| match actor {
                SignedOut => SignIn,
                Agent => Without(ADMINS_ONLY),
                _ => Shown,
            },
        },
    ]
}

/// Asserts the headers every answer carries: no sniffing, no framing, no referrer to other sites, and (for all
/// but the public files and the built assets) no caching.
fn assert_security_headers(response: &reqwest::Response, what: &str) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        [
            header("x-content-type-options"),
            header("x-frame-options"),
            header("referrer-policy"),
            header("cache-control"),
        ],
        [
            Some("nosniff".to_owned()),
            Some("DENY".to_owned()),
            Some("same-origin".to_owned()),
            Some("no-store".to_owned()),
        ],
        "{what}"
    );
}

/// GETs a page as a browser does (asking for HTML, not following the redirect).
async fn get_page(console: &Console, client: &Client, path: &str) -> reqwest::Response {
    client
        .http
        .get(console.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .expect("the console answers the page")
}

async fn run_pages_of_actor(pool: PgPool, actor: Actor) {
    let console = Console::start(pool).await;
    let people = people(&console).await;
    let client = console.client_of(actor).await;
    let every_personal_datum: Vec<String> = people
        .jordan
        .iter()
        .cloned()
        .chain([DANA.to_owned()])
        .collect();
    for page in pages(&people) {
        let response = get_page(&console, &client, &page.path).await;
        let what = format!("{actor:?} on {}", page.path);
        assert_security_headers(&response, &what);
        let outcome = (page.expected)(actor);
        let status = response.status();
        let location = response.headers().get("location").cloned();
        let html = response.text().await.expect("the page's body can be read");
        if outcome == SignIn {
            let sign_in = format!("/login?next={}", urlencode_path(&page.path));
            assert_eq!(
                (status, location.as_ref().and_then(|l| l.to_str().ok())),
                (StatusCode::FOUND, Some(sign_in.as_str())),
                "{what}"
            );
        } else {
            assert_eq!(status, StatusCode::OK, "{what}");
        }
        if outcome == Shown {
            for datum in &page.shows {
                assert!(html.contains(datum.as_str()), "{what}: {datum} is missing");
            }
        }
        if let Without(text) = outcome {
            assert!(html.contains(text), "{what}: no \"{text}\"");
        }
        for datum in &every_personal_datum {
            if outcome != Shown || !page.shows.contains(datum) {
                assert!(
                    !html.contains(datum.as_str()),
                    "{what}: shows {datum}, which it is not for"
                );
            }
        }
    }
    for path in ["/", "/login", "/no-such-page"] {
        let response = get_page(&console, &client, path).await;
        assert_security_headers(&response, &format!("{actor:?} on {path}"));
    }
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        if path == "/api/auth/logout" {
            continue; // the client's session is still needed
        }
        let response = client
            .http
            .post(console.url(path))
            .form(&[("email", "nobody@acme.example"), ("password", "wrong")])
            .send()
            .await
            .expect("the console answers the server function");
        assert_security_headers(&response, &format!("{actor:?} on {path}"));
    }
}

// One test per actor, each running that actor's row of the page matrix on its own database.
crate::one_test_per_actor!(run_pages_of_actor);
