//! Customer data carrying HTML or script is sent as text in the server-rendered page, including inside the
//! data serialized for hydration, and pages with customer data are never cached; the built wasm, JS and CSS
//! are loaded by versioned URLs that browsers keep until the next release; the navigation marks the entry of
//! the page shown.

mod common;

use common::*;
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

const NAME: &str = "Robin <script>window.__xss=1</script> Probe";
const BODY: &str = "</script><script>window.__xss=3</script><img src=x onerror=\"window.__xss=2\">";

async fn hostile_customer(console: &Console) -> Uuid {
    let id: Uuid = scalar_for(
        &console.pool,
        "insert into customers (account_id, salesforce_id, object_type, name, email, phone)
         select id, '00Q5e00XssProbeEEB', 'Lead', $1, 'xss.probe@example.com', '+14155550999'
         from accounts where name = 'Acme Corp' returning id",
        NAME,
    )
    .await;
    sqlx::query(
        "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
         select account_id, id, 'inbound', '+14155550999', '+14155559000', $2, now() from customers where id = $1",
    )
    .bind(id)
    .bind(BODY)
    .execute(&console.pool)
    .await
    .expect("the hostile message fits the schema");
    id
}

#[sqlx::test]
async fn markup_in_customer_data_is_escaped_in_server_rendered_pages(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let id = hostile_customer(&console).await;
    let alex = console.signed_in(ALEX).await;

    for path in [
        format!("/customers/{id}"),
        alex.saved_search_page("customers", "xss.probe@example.com")
            .await,
    ] {
        let response = alex.http.get(console.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cache = response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap_or("").to_owned());
        assert_eq!(cache.as_deref(), Some("no-store"), "{path} may be cached");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Robin &lt;script&gt;window.__xss=1&lt;/script&gt; Probe"),
            "{path}: name not escaped"
        );
        assert!(
            !html.contains("<script>window.__xss"),
            "{path}: a script from customer data reached the page"
        );
        assert!(
            !html.contains("<img src=x"),
            "{path}: an element from customer data reached the page"
        );
        let script_tags = html.matches("<script").count();
        let closing_tags = html.matches("</script>").count();
        assert_eq!(
            script_tags, closing_tags,
            "{path}: serialized data broke out of its script element"
        );
    }
    let (_, html) = alex.get(&format!("/customers/{id}")).await;
    assert!(
        html.contains("&lt;/script&gt;&lt;script&gt;window.__xss=3"),
        "message body shown as text"
    );

    let api = alex
        .http
        .post(console.url("/api/customers/detail"))
        .form(&[("customer_id", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers().get("cache-control").unwrap(), "no-store");
}

/// Pages are rendered on the server only: a customer's calls and messages are written once, as HTML, and not a
/// second time as data for the browser. Only the erasure control's own props (id, label, counts) go along.
#[sqlx::test]
async fn a_customer_page_carries_its_activity_once(pool: PgPool) {
    let console = Console::start(pool).await;
    console.give_alex_customer_data_access().await;
    let id = hostile_customer(&console).await;
    sqlx::query(
        "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
         select account_id, id, 'outbound', '+14155559000', '+14155550999', 'Renewal quote 7731 attached', now()
         from customers where id = $1",
    )
    .bind(id)
    .execute(&console.pool)
    .await
    .unwrap();
    let alex = console.signed_in(ALEX).await;
    let (status, html) = alex.get(&format!("/customers/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("Renewal quote 7731 attached").count(), 1);
    assert_eq!(
        html.matches("+14155550999").count(),
        3,
        "the record's phone and two messages"
    );
    assert_eq!(
        html.matches("<leptos-island").count(),
        2,
        "sign-out and the erasure control"
    );
}

/// The island loader waits for nothing before the first paint on a browser's first visit; once the loader has
/// set its cookie (the browser then holds the wasm), later pages hydrate before they are first painted.
#[sqlx::test]
async fn the_loader_blocks_the_first_paint_only_for_a_browser_that_has_the_wasm(pool: PgPool) {
    let console = Console::start(pool).await;
    // The tag without its nonce, which is new for every answer (tests/browser_headers.rs checks it).
    let loader_tag = |html: &str| {
        let start = html
            .find(r#"<script type="module""#)
            .expect("the shell has the loader");
        let tag = &html[start..start + html[start..].find('>').unwrap() + 1];
        let nonce = tag.find(r#" nonce=""#).expect("the loader has a nonce");
        let nonce_end = nonce + 8 + tag[nonce + 8..].find('"').unwrap() + 1;
        format!("{}{}", &tag[..nonce], &tag[nonce_end..])
    };
    let page = |cookie: Option<&'static str>| {
        let mut request = reqwest::Client::new().get(console.url("/login"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let first_visit = page(None).await;
    assert_eq!(loader_tag(&first_visit), r#"<script type="module" async>"#);
    assert!(
        first_visit.contains(r#"document.cookie = "cdc_wasm=1; Path=/;"#),
        "the loader remembers that this browser has the wasm"
    );
    assert_eq!(
        loader_tag(&page(Some("theme=dark; cdc_wasm=1")).await),
        r#"<script type="module" async blocking="render">"#
    );
    assert_eq!(
        loader_tag(&page(Some("cdc_wasm=0")).await),
        r#"<script type="module" async>"#
    );
}

#[sqlx::test]
async fn pages_load_the_built_files_by_versioned_urls_kept_until_the_next_release(pool: PgPool) {
    let console = Console::start(pool).await;
    let version = console
        .state
        .asset_version
        .clone()
        .expect("the site folder has the built files");
    let http = reqwest::Client::new();
    let login = http.get(console.url("/login")).send().await.unwrap();
    assert_eq!(login.headers()["cache-control"], "no-store");
    let page = login.text().await.unwrap();
    for extension in ["wasm", "js", "css"] {
        let path = format!("/pkg/{OUTPUT_NAME}.{extension}");
        let versioned = format!("{path}?v={version}");
        assert!(
            page.contains(&format!("\"{versioned}\"")),
            "{extension} by its versioned URL:\n{page}"
        );
        assert!(
            !page.contains(&format!("\"{path}\"")),
            "{extension} never without the version"
        );
        let kept = http.get(console.url(&versioned)).send().await.unwrap();
        assert_eq!(kept.status(), StatusCode::OK);
        assert_eq!(
            kept.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(kept.text().await.unwrap(), stand_in(extension));
        for unversioned in [path.clone(), format!("{path}?v=0000000000000000")] {
            let checked = http.get(console.url(&unversioned)).send().await.unwrap();
            assert_eq!(
                checked.headers()["cache-control"],
                "no-cache",
                "{unversioned}"
            );
        }
    }
    let missing = http
        .get(console.url(&format!("/pkg/missing.js?v={version}")))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()["cache-control"], "no-store");
    let icon = http.get(console.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["cache-control"], "public, max-age=86400");
}

/// The navigation marks one entry as the current page (`aria-current`): the entry of the page shown, or of the
/// section the page is in.
#[sqlx::test]
async fn the_navigation_marks_the_entry_of_the_page_shown(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (jordan, _) = jordans(&console).await;
    let jordan_page = format!("/customers/{jordan}");
    let alex_page = format!("/users/{}", console.user_id(ALEX).await);
    for (path, current) in [
        ("/", "/"),
        ("/admin", "/admin"),
        ("/users", "/users"),
        (alex_page.as_str(), "/users"),
        ("/customers", "/customers"),
        (jordan_page.as_str(), "/customers"),
    ] {
        let (status, html) = alex.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let marked: Vec<&str> = html
            .match_indices(r#"" aria-current="page""#)
            .map(|(at, _)| {
                let href =
                    html[..at].rfind(r#"href=""#).expect("a marked link") + r#"href=""#.len();
                &html[href..at]
            })
            .collect();
        assert_eq!(marked, [current], "{path}");
    }
}
