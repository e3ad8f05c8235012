//! The browser protections every answer carries, whatever produced it (a page, a built file, a server
//! function, its error, the cross-site guard's refusal, the body limit's): a Content-Security-Policy whose
//! script nonce is new for every answer and is the one the page's own inline scripts carry, the framing,
//! opener, resource and feature policies, and Strict-Transport-Security when the console is served over https;
//! and on pages, the preload of the wasm that their head's script fetches.
//! No page carries an inline script without the nonce, nor an inline style.

mod common;

use std::collections::BTreeMap;

use common::*;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use sqlx::PgPool;

/// The policy's directives, each with its sources in the order given.
fn directives(policy: &str) -> BTreeMap<String, Vec<String>> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.map(str::to_owned).collect()))
        })
        .collect()
}

/// Checks the protections on one answer and returns the nonce its policy allows scripts by.
fn assert_protected(what: &str, headers: &HeaderMap, over_https: bool) -> String {
    let header = |name: &str| {
        headers.get(name).map(|value| {
            value
                .to_str()
                .unwrap_or_else(|_| panic!("{what}: {name} is not ASCII"))
                .to_owned()
        })
    };
    let policy = header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    let mut found = directives(&policy);
    let scripts = found
        .remove("script-src")
        .unwrap_or_else(|| panic!("{what}: no script-src in {policy}"));
    let nonce = scripts
        .iter()
        .find_map(|source| source.strip_prefix("'nonce-")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{what}: no nonce in {policy}"))
        .to_owned();
    assert!(nonce.len() >= 22, "{what}: a short nonce: {nonce}");
    let mut script_keywords: Vec<&str> = scripts
        .iter()
        .map(String::as_str)
        .filter(|source| !source.starts_with("'nonce-"))
        .collect();
    script_keywords.sort_unstable();
    assert_eq!(
        script_keywords,
        ["'strict-dynamic'", "'wasm-unsafe-eval'"],
        "{what}: {policy}"
    );
    let expected: BTreeMap<String, Vec<String>> = [
        ("default-src", "'self'"),
        ("object-src", "'none'"),
        ("base-uri", "'none'"),
        ("frame-ancestors", "'none'"),
        ("form-action", "'self'"),
    ]
    .into_iter()
    .map(|(name, source)| (name.to_owned(), vec![source.to_owned()]))
    .collect();
    assert_eq!(found, expected, "{what}: {policy}");
    assert_eq!(
        header("cross-origin-opener-policy").as_deref(),
        Some("same-origin"),
        "{what}"
    );
    assert_eq!(
        header("cross-origin-resource-policy").as_deref(),
        Some("same-origin"),
        "{what}"
    );
    let features =
        header("permissions-policy").unwrap_or_else(|| panic!("{what}: no Permissions-Policy"));
    for feature in ["camera=()", "microphone=()", "geolocation=()"] {
        assert!(features.contains(feature), "{what}: {features}");
    }
    assert_eq!(
        header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert!(header("referrer-policy").is_some(), "{what}");
    let transport = header("strict-transport-security");
    if over_https {
        let transport = transport.unwrap_or_else(|| panic!("{what}: no Strict-Transport-Security"));
        let max_age: u64 = transport
            .strip_prefix("max-age=")
            .and_then(|rest| rest.split(';').next())
            .and_then(|age| age.parse().ok())
            .unwrap_or_else(|| panic!("{what}: {transport}"));
        assert!(max_age >= 31_536_000, "{what}: {transport}");
    } else {
        assert_eq!(transport, None, "{what}: plain http asks for no https");
    }
    nonce
}

/// One request of every kind of answer the console gives, with a description of it.
async fn every_kind_of_answer(console: &Console) -> Vec<(&'static str, reqwest::Response)> {
    let http = bare_client();
    let alex = console.signed_in(ALEX).await;
    let version = console
        .state
        .asset_version
        .clone()
        .expect("the test site's built files give the console an asset version");
    let url = |path: &str| console.url(path);
    let requests = [
        ("the sign-in page", http.get(url("/login"))),
        ("a signed-in page", alex.http.get(url("/admin"))),
        (
            "the redirect of a signed-out visitor",
            http.get(url("/admin")).header("accept", "text/html"),
        ),
        ("the not-found page", http.get(url("/no-such-page"))),
        ("a file of public/", http.get(url("/favicon.svg"))),
        (
            "a built file",
            http.get(url(&format!("/pkg/{OUTPUT_NAME}.js?v={version}"))),
        ),
        ("a missing built file", http.get(url("/pkg/missing.js"))),
        (
            "a server function's answer",
            alex.http.post(url("/api/auth/viewer")).form(NO_FIELDS),
        ),
        (
            "a server function's error",
            http.post(url("/api/customers/search"))
                .form(&[("query", JORDAN)]),
        ),
        (
            "a GET to a server function",
            http.get(url("/api/auth/viewer")),
        ),
        (
            "the cross-site guard's refusal",
            alex.http
                .post(url("/api/settings/customer-data"))
                .header("origin", "https://attacker.example")
                .form(&[("enabled", "true")]),
        ),
        (
            "the body limit's refusal",
            alex.http
                .post(url("/api/users/search"))
                .form(&[("query", "q".repeat(200_000))]),
        ),
    ];
    let mut answers = Vec::with_capacity(requests.len());
    for (what, request) in requests {
        let answer = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("{what}: the console did not answer: {err}"));
        answers.push((what, answer));
    }
    answers
}

#[sqlx::test]
async fn every_answer_carries_the_browser_protections(pool: PgPool) {
    let console = Console::start(pool).await;
    let answers = every_kind_of_answer(&console).await;
    let statuses: Vec<u16> = answers.iter().map(|(_, r)| r.status().as_u16()).collect();
    assert_eq!(
        statuses,
        [200, 200, 302, 404, 200, 200, 404, 200, 401, 405, 403, 413],
        "the answers are of the kinds described"
    );
    let mut nonces = std::collections::HashSet::new();
    for (what, response) in &answers {
        nonces.insert(assert_protected(what, response.headers(), false));
    }
    assert_eq!(
        nonces.len(),
        answers.len(),
        "every answer has its own nonce"
    );
}

#[sqlx::test]
async fn over_https_every_answer_asks_the_browser_to_keep_to_https(pool: PgPool) {
    let console = Console::start_with(pool, true).await;
    for (what, response) in [
        (
            "the sign-in page",
            bare_client()
                .get(console.url("/login"))
                .send()
                .await
                .unwrap(),
        ),
        (
            "a server function's answer",
            bare_client()
                .post(console.url("/api/auth/viewer"))
                .form(NO_FIELDS)
                .send()
                .await
                .unwrap(),
        ),
        (
            "the cross-site guard's refusal",
            bare_client()
                .post(console.url("/api/auth/login"))
                .header("origin", "https://attacker.example")
                .form(&[("email", ALEX), ("password", PASSWORD)])
                .send()
                .await
                .unwrap(),
        ),
    ] {
        assert_protected(what, response.headers(), true);
    }
}

/// The `<script` and `<link rel="modulepreload"` tags of a page, each up to its `>`.
fn script_tags(html: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    for opening in ["<script", "<link rel=\"modulepreload\""] {
        for (at, _) in html.match_indices(opening) {
            let end = at + html[at..].find('>').expect("a closed tag");
            tags.push(&html[at..=end]);
        }
    }
    tags
}

#[sqlx::test]
async fn the_pages_inline_scripts_carry_the_nonce_of_their_answer(pool: PgPool) {
    let console = Console::start(pool).await;
    let http = bare_client();
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let response = http.get(console.url("/login")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let nonce = assert_protected("the sign-in page", response.headers(), false);
        let html = response.text().await.unwrap();
        let tags = script_tags(&html);
        assert!(
            tags.len() >= 3,
            "the two loader scripts, the preload and any script Leptos adds: {tags:?}"
        );
        for tag in tags {
            assert!(
                tag.contains(&format!(r#" nonce="{nonce}""#)),
                "{tag} lacks the answer's nonce {nonce}"
            );
        }
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "each answer has a new nonce");
}

/// Every page (HTML) asks the browser to fetch the wasm as its answer arrives, by the very URL its head's script
/// then fetches it with, so that the script's request is served by the preload; no other answer does.
#[sqlx::test]
async fn every_page_preloads_the_wasm_its_head_fetches(pool: PgPool) {
    let console = Console::start(pool).await;
    let mut pages = Vec::new();
    for (what, response) in every_kind_of_answer(&console).await {
        let is_page = response
            .headers()
            .get("content-type")
            .is_some_and(|value| value.to_str().unwrap().starts_with("text/html"));
        let link = response
            .headers()
            .get("link")
            .map(|value| value.to_str().unwrap().to_owned());
        if !is_page {
            assert_eq!(link, None, "{what}: only pages preload the wasm");
            continue;
        }
        let link = link.unwrap_or_else(|| panic!("{what}: a page without the wasm's preload"));
        let html = response.text().await.unwrap();
        let fetched = html
            .split_once("WebAssembly.compileStreaming(fetch(\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(url, _)| url)
            .unwrap_or_else(|| panic!("{what}: no head script fetching the wasm"));
        assert!(fetched.contains(".wasm?v="), "{what}: {fetched}");
        assert_eq!(
            link,
            format!("<{fetched}>; rel=preload; as=fetch; crossorigin"),
            "{what}"
        );
        pages.push(what);
    }
    assert_eq!(
        pages,
        [
            "the sign-in page",
            "a signed-in page",
            "the redirect of a signed-out visitor",
            "the not-found page"
        ],
        "the pages among the answers"
    );
}

/// Every page of the console, signed in as an Admin with customer data access (and the sign-in and
/// not-found pages signed out): each script carries its answer's nonce, and nothing is styled inline (the
/// policy allows styles from the console's own stylesheet only).
#[sqlx::test]
async fn no_page_has_an_inline_script_without_the_nonce_or_an_inline_style(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (jordan, _) = jordans(&console).await;
    let alex_id = console.user_id(ALEX).await;
    let signed_in = [
        "/".to_owned(),
        "/admin".to_owned(),
        "/users".to_owned(),
        alex.saved_search_page("users", "blair").await,
        format!("/users/{alex_id}"),
        "/customers".to_owned(),
        format!("/customers/{jordan}"),
    ];
    let mut pages = Vec::new();
    for path in &signed_in {
        pages.push((
            path.clone(),
            alex.http.get(console.url(path)).send().await.unwrap(),
        ));
    }
    for path in ["/login", "/no-such-page"] {
        pages.push((
            path.to_owned(),
            bare_client().get(console.url(path)).send().await.unwrap(),
        ));
    }
    for (path, response) in pages {
        assert!(response.status().as_u16() < 500, "{path}");
        let nonce = assert_protected(&path, response.headers(), false);
        let html = response.text().await.unwrap();
        let tags = script_tags(&html);
        assert!(tags.len() >= 3, "{path}: {tags:?}");
        for tag in tags {
            assert!(
                tag.contains(&format!(r#" nonce="{nonce}""#)),
                "{path}: {tag}"
            );
        }
        assert!(!html.contains(" style="), "{path} styles an element inline");
        assert!(!html.contains("<style"), "{path} has an inline stylesheet");
        assert!(!html.contains(" onclick="), "{path} has an inline handler");
    }
}
