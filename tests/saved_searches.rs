//! Searches are POSTs and no page URL holds what was searched for: the search form's answer is a 303 to the
//! page with an opaque id, which only the user who searched can read, for 30 minutes; the page shows the text
//! and the results again on every reload, pages through users with the id, and shows a refusal without the
//! text in any URL. An erasure deletes the account's searches for the erased email.

mod common;

use common::*;
use customer_data_console::api::searches::NO_SUCH_SEARCH;
use customer_data_console::model::Role;
use customer_data_console::server::{auth, db};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

/// The answer to posting the search form: its status, its `Location` and its body.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

/// Posts the search form as the browser submits it itself (`navigate`) or as a script or API client does.
async fn post_search(
    client: &Client,
    console: &Console,
    form: &[(&str, &str)],
    navigate: bool,
) -> Answer {
    let mut request = client.http.post(console.url("/api/searches")).form(form);
    if navigate {
        request = request.header("sec-fetch-mode", "navigate");
    }
    let response = request.send().await.expect("request");
    Answer {
        status: response.status(),
        location: response
            .headers()
            .get("location")
            .map(|l| l.to_str().expect("ASCII").to_owned()),
        body: response.text().await.expect("body"),
    }
}

/// The id in a search page's path (`/customers?search=<id>`), checking that the path holds nothing else.
fn search_id_in(location: &str, page: &str) -> Uuid {
    let id = location
        .strip_prefix(&format!("{page}?search="))
        .unwrap_or_else(|| panic!("{location} is not a search of {page}"));
    Uuid::parse_str(id).expect("the id is a UUID")
}

fn assert_free_of(location: &str, text: &str) {
    let lower = location.to_lowercase();
    for form in [
        text.to_lowercase(),
        text.to_lowercase().replace('@', "%40"),
        text.split('@').next().unwrap_or(text).to_lowercase(),
    ] {
        assert!(!lower.contains(&form), "{location} holds {form}");
    }
}

#[sqlx::test]
async fn a_search_answers_303_to_an_id_and_its_page_shows_the_text_and_results_on_every_load(
    pool: PgPool,
) {
    let console = Console::start(pool).await;
    let alex = console.client_of(Actor::AdminWithAccess).await;
    let answer = post_search(
        &alex,
        &console,
        &[("kind", "customers"), ("query", JORDAN)],
        false,
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location.expect("a Location");
    assert_free_of(&location, JORDAN);
    assert_eq!(
        answer.body,
        format!("\"{location}\""),
        "the body names the page too"
    );
    search_id_in(&location, "/customers");
    for load in 0..2 {
        let (status, html) = alex.get(&location).await;
        let html = html.replace("<!>", "");
        assert_eq!(status, StatusCode::OK, "load {load}");
        assert!(
            html.contains(&format!("value=\"{JORDAN}\"")),
            "load {load}: the field shows the text"
        );
        assert!(html.contains("2 records match."), "load {load}: {html}");
        assert!(!html.contains("?q="), "load {load}: no query-string search");
    }
    let (status, html) = alex.get("/customers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Search for a customer"));
    assert!(
        html.contains("action=\"/api/searches\" method=\"post\""),
        "the form posts"
    );
}

#[sqlx::test]
async fn only_the_user_who_searched_reads_the_search(pool: PgPool) {
    let console = Console::start(pool).await;
    console.set_permission(BLAIR, true).await;
    let gina = console.client_of(Actor::AdminOfAnotherAccount).await;
    let alex = console.client_of(Actor::AdminWithAccess).await;
    let blair = console.signed_in(BLAIR).await;
    let location = alex.saved_search_page("customers", JORDAN).await;
    let customer_search = search_id_in(&location, "/customers").to_string();
    let user_search =
        search_id_in(&alex.saved_search_page("users", "casey").await, "/users").to_string();
    let (status, mine) = alex
        .post(
            "/api/customers/saved-search",
            &[("search_id", &customer_search)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["query"], JORDAN);
    assert_eq!(mine["matches"]["records"].as_array().unwrap().len(), 2);
    let (status, mine) = alex
        .post("/api/users/saved-search", &[("search_id", &user_search)])
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["found"]["users"][0]["email"], CASEY);
    for (who, client) in [
        ("Blair, same account", &blair),
        ("Gina, another account", &gina),
    ] {
        for (path, id) in [
            ("/api/customers/saved-search", &customer_search),
            ("/api/users/saved-search", &user_search),
        ] {
            let answer = client.post(path, &[("search_id", id)]).await;
            assert_eq!(
                answer.0,
                StatusCode::NOT_FOUND,
                "{who} on {path}: {}",
                answer.1
            );
            assert_eq!(
                answer.1,
                serde_json::json!({ "NotFound": NO_SUCH_SEARCH }),
                "{who}"
            );
        }
        let (status, html) = client.get(&location).await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert!(html.contains("This search has expired"), "{who}: {html}");
        assert!(!html.contains(JORDAN), "{who} sees the searched email");
    }
}

#[sqlx::test]
async fn an_expired_search_is_not_found_and_a_new_search_deletes_it(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.client_of(Actor::AdminWithAccess).await;
    let id = search_id_in(
        &alex.saved_search_page("customers", JORDAN).await,
        "/customers",
    );
    let expires_in: f64 = scalar_for(
        &console.pool,
        "select extract(epoch from expires_at - created_at)::float8 from saved_searches where id = $1",
        id,
    )
    .await;
    assert_eq!(expires_in, 30.0 * 60.0, "a search lives 30 minutes");
    sqlx::query("update saved_searches set expires_at = now() - interval '1 second' where id = $1")
        .bind(id)
        .execute(&console.pool)
        .await
        .unwrap();
    let answer = alex
        .post(
            "/api/customers/saved-search",
            &[("search_id", &id.to_string())],
        )
        .await;
    assert_eq!(answer.0, StatusCode::NOT_FOUND, "{}", answer.1);
    alex.saved_search_page("customers", "someone@example.com")
        .await;
    let left: i64 = scalar_for(
        &console.pool,
        "select count(*) from saved_searches where id = $1",
        id,
    )
    .await;
    assert_eq!(left, 0, "the user's next search deleted the expired one");
    assert_eq!(
        db::saved_searches::delete_expired(&console.pool)
            .await
            .unwrap(),
        0
    );
    sqlx::query("update saved_searches set expires_at = now() - interval '1 second'")
        .execute(&console.pool)
        .await
        .unwrap();
    assert_eq!(
        db::saved_searches::delete_expired(&console.pool)
            .await
            .unwrap(),
        1
    );
}

#[sqlx::test]
async fn refused_text_gets_the_parsers_message_and_a_browser_sees_it_without_the_text_in_a_url(
    pool: PgPool,
) {
    let console = Console::start(pool).await;
    let alex = console.client_of(Actor::AdminWithAccess).await;
    let near_id = "0035e00000BVdX";
    let bad_email = "jordan rivera@example.com";
    for (text, message) in [
        (near_id, "A Salesforce ID has 15 or 18 characters."),
        (bad_email, "That is not a valid email address."),
        (
            "",
            "Enter an email address, a Salesforce ID or a phone number.",
        ),
    ] {
        let form = [("kind", "customers"), ("query", text)];
        let before = console.snapshot().await;
        let answer = post_search(&alex, &console, &form, false).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        assert!(answer.body.contains(message), "{text}: {}", answer.body);
        console.assert_unchanged(&before, "a refused search").await;

        let answer = post_search(&alex, &console, &form, true).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{text}: {}",
            answer.body
        );
        let location = answer.location.expect("a Location");
        search_id_in(&location, "/customers");
        if !text.is_empty() {
            assert_free_of(&location, text);
        }
        let (status, html) = alex.get(&location).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("role=\"alert\""), "{text}: {html}");
        assert!(html.contains(message), "{text}: {html}");
        assert!(
            !html.contains("jordan rivera"),
            "a refused text is not kept"
        );
    }
    let kept: i64 = scalar(
        &console.pool,
        "select count(*) from saved_searches where query is not null",
    )
    .await;
    assert_eq!(kept, 0, "refused searches keep no text");
}

#[sqlx::test]
async fn a_browser_without_access_or_a_session_is_sent_to_a_page_that_says_so(pool: PgPool) {
    let console = Console::start(pool).await;
    let blair = console.client_of(Actor::AdminWithoutPermission).await;
    let form = [("kind", "customers"), ("query", JORDAN)];
    let answer = post_search(&blair, &console, &form, false).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = post_search(&blair, &console, &form, true).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let location = answer.location.expect("a Location");
    assert_free_of(&location, JORDAN);
    let (_, html) = blair.get(&location).await;
    assert!(
        html.contains("You do not have the Manage Customer Data permission"),
        "{html}"
    );
    assert!(!html.contains(JORDAN));

    let signed_out = console.client_of(Actor::SignedOut).await;
    let answer = post_search(&signed_out, &console, &form, true).await;
    assert_eq!(
        (answer.status, answer.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/login"))
    );
    let answer = post_search(&signed_out, &console, &form, false).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scalar::<i64>(
            &console.pool,
            "select count(*) from saved_searches where query is not null"
        )
        .await,
        0
    );
}

#[sqlx::test]
async fn user_searches_page_with_the_id_and_an_empty_one_lists_everyone(pool: PgPool) {
    let console = Console::start(pool).await;
    let alex = console.client_of(Actor::AdminWithAccess).await;
    let account: Uuid = scalar_for(
        &console.pool,
        "select account_id from users where email = $1",
        ALEX,
    )
    .await;
    let hash = auth::hash_password(PASSWORD).unwrap();
    for n in 0..30 {
        db::users::create(
            &console.pool,
            account,
            &format!("Pager Person {n:02}"),
            &format!("pager.person{n:02}@acme.example"),
            Role::Agent,
            None,
            hash.as_str(),
        )
        .await
        .unwrap()
        .expect("a new user");
    }
    let answer = post_search(
        &alex,
        &console,
        &[("kind", "users"), ("query", "pager.person")],
        true,
    )
    .await;
    let location = answer.location.expect("a Location");
    let id = search_id_in(&location, "/users");
    assert_free_of(&location, "pager.person");
    let (_, first) = alex.get(&location).await;
    assert!(
        first.contains("value=\"pager.person\""),
        "the field shows the text"
    );
    assert!(first.contains("pager.person00@acme.example"));
    assert!(!first.contains("pager.person29@acme.example"));
    let next = format!("/users?search={id}&amp;page=1");
    assert!(
        first.contains(&next),
        "the next page keeps the search: {first}"
    );
    let (_, second) = alex.get(&next.replace("&amp;", "&")).await;
    assert!(second.contains("pager.person29@acme.example"), "{second}");
    assert!(!second.contains("pager.person00@acme.example"));
    assert!(
        !second.contains(ALEX),
        "the second page is of the search, not of everyone"
    );
    assert!(second.contains(&format!("/users?search={id}&amp;page=0")));

    let answer = post_search(&alex, &console, &[("kind", "users"), ("query", "  ")], true).await;
    assert_eq!(answer.location.as_deref(), Some("/users"));
    let (_, everyone) = alex.get("/users?page=0").await;
    assert!(everyone.contains(BLAIR) && everyone.contains(ALEX));
    assert!(
        everyone.contains("/users?page=1"),
        "all users page on without a search"
    );
}

#[sqlx::test]
async fn an_erasure_deletes_the_accounts_searches_for_the_erased_email(pool: PgPool) {
    let console = Console::start(pool).await;
    console.set_permission(BLAIR, true).await;
    let alex = console.client_of(Actor::AdminWithAccess).await;
    for (email, query) in [
        (ALEX, JORDAN.to_owned()),
        (BLAIR, JORDAN.to_uppercase()),
        (ALEX, "someone.else@example.com".to_owned()),
    ] {
        console.saved_search(email, "customers", &query).await;
    }
    let expired = console.saved_search(BLAIR, "customers", JORDAN).await;
    sqlx::query("update saved_searches set expires_at = now() - interval '1 hour' where id = $1")
        .bind(expired)
        .execute(&console.pool)
        .await
        .unwrap();
    let gina_search = console.saved_search(GINA, "customers", JORDAN).await;
    let (lead, _) = jordans(&console).await;
    let (status, receipt) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let left: Vec<String> = column(
        &console.pool,
        "select query from saved_searches order by query",
    )
    .await;
    assert_eq!(
        left,
        [JORDAN.to_owned(), "someone.else@example.com".to_owned()],
        "Acme's searches for the erased email are gone; Globex's and other searches stay"
    );
    let gina_left: i64 = scalar_for(
        &console.pool,
        "select count(*) from saved_searches where id = $1",
        gina_search,
    )
    .await;
    assert_eq!(gina_left, 1);
}
