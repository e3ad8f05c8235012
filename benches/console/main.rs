//! The console benchmark (`scripts/bench`): on a database seeded by `customer-data-console seed`, serves the
//! console on a loopback port, drives it over HTTP as a signed-in Admin, measures each figure beside its limit
//! in the same run and prints one Markdown table. Each figure's module owns its measurement and its baseline:
//! [`search`] (search by email, Salesforce id and phone number vs the same statements behind a plain axum
//! handler, with reference rows), [`customer_page`] (the SSR page vs a plain axum handler running the same
//! queries), [`erasure`] (erasing a record of 10,000 calls + 10,000 messages, and a person of two such records,
//! vs the same DELETEs in one transaction), [`hydration`] (the release wasm and JS sizes, hydration time with a
//! warm and a cold cache and the longest main-thread task in Chromium) and [`static_files`] (a stylesheet
//! against a server-rendered page on one kept-alive connection) and [`audit`] (`audit verify` over 1,000,000
//! rows, and a search with and without its audit log append) and [`ingestion`] (calls through the API with the
//! suppression check against the same INSERT, and the suppression lookup at 1,000,000 entries) and [`export`]
//! (the ZIP of a record of 10,000 calls and 10,000 messages: MB/s and the memory it takes) and [`bulk`] (the
//! dry run of a 10,000-row file, and the rate at which a confirmed bulk job erases persons) and [`key_work`] (the
//! key work of one erasure with 1,000,000 data keys in the keyring). The baselines
//! run on a second, plain axum server ([`plain_router`]).

mod audit;
mod bulk;
#[path = "../common/mod.rs"]
mod common;
mod customer_page;
mod erasure;
mod export;
mod http_client;
mod hydration;
mod ingestion;
mod key_work;
mod report;
mod search;
mod static_files;

use std::sync::{Arc, LazyLock};

use axum::Router;
use customer_data_console::server::config::WebSettings;
use customer_data_console::server::evidence::identity::EvidenceSecret;
use customer_data_console::server::keys::{self, Keyring, root::RootFiles};
use customer_data_console::server::state::AppState;
use customer_data_console::server::storage::Storage;
use customer_data_console::server::{db, http, synthetic};
use sqlx::PgPool;
use uuid::Uuid;

/// What every figure works with: the console and the plain server, the pool both read, and a client signed in
/// to the console as the synthetic Admin.
pub struct Bench {
    /// The console's base URL.
    pub console: String,
    /// The base URL of the plain axum server that holds the baselines.
    pub plain: String,
    /// The pool both servers read, also used to set up and check each figure's data.
    pub pool: PgPool,
    /// An HTTP client holding the synthetic Admin's session cookie.
    pub client: reqwest::Client,
    /// The signed-in client's session token.
    pub session_token: String,
    /// The synthetic tenant.
    pub account: Uuid,
    /// The keyring the console seals and opens the records' values with.
    pub keyring: Arc<Keyring>,
    /// The seeded customers, not counting the erasure figures' clones.
    pub customers: i64,
    /// The release's asset version, which the `/pkg` URLs carry.
    pub asset_version: Option<String>,
    /// The built site's folder (`LEPTOS_SITE_ROOT`), whose wasm and JS the hydration figure measures.
    pub site_root: String,
    /// The hydration figure's floor, when `NOOP_SITE_ROOT` names a copy of the site whose wasm has the console's
    /// exports, each doing nothing (`scripts/bench` builds it): a second console serving that site, and its
    /// folder.
    pub noop_console: Option<hydration::Site>,
    /// The console's object store folder, where the export figure puts its recordings.
    pub objects: std::path::PathBuf,
}

/// The evidence secret of the console and of the plain handlers that append to the audit log as it does.
pub static EVIDENCE_SECRET: LazyLock<EvidenceSecret> = LazyLock::new(|| {
    EvidenceSecret::from_bytes(b"the benchmark's evidence secret, for no deployment")
        .expect("secret")
});

fn synthetic_account() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, b"synthetic-tenant")
}

async fn bind() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
}

/// Serves `router` on `listener` as the console is served in production, and returns its base URL.
fn serve_on(listener: tokio::net::TcpListener, router: Router) -> String {
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(http::serve_connections(
        listener,
        router,
        http::ConnectionLimits::default(),
        std::future::pending(),
    ));
    format!("http://{addr}")
}

/// Serves `router` on a free loopback port and returns its base URL.
async fn serve(router: Router) -> String {
    serve_on(bind().await, router)
}

/// The baselines' server: each figure's own routes on one router.
fn plain_router(pool: PgPool, keyring: Arc<Keyring>) -> Router {
    Router::new()
        .merge(search::plain_routes())
        .merge(customer_page::plain_routes())
        .layer(axum::Extension(keyring))
        .with_state(pool)
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL of a database seeded by `seed`");
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    let pool = db::connect(&url).await.expect("connect");
    let account = synthetic_account();
    // Seeded customers only: the erasure figures add clones of the heavy customer on every run.
    let (customers, calls, messages): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from customers where account_id = $1 and id between $2 and $3),
                (select count(*) from calls where account_id = $1),
                (select count(*) from messages where account_id = $1)",
    )
    .bind(account)
    .bind(synthetic::row_id(1, 0))
    .bind(synthetic::row_id(1, u64::MAX))
    .fetch_one(&pool)
    .await
    .expect("sizes");
    assert!(
        customers > 0,
        "seed the database first: customer-data-console seed"
    );

    let objects = std::env::temp_dir().join("cdc-bench-objects");
    let storage = Storage::local(&objects).expect("store");
    let console_listener = bind().await;
    let console_addr = console_listener.local_addr().expect("addr");
    // The ingestion figure's 8 clients make far more requests a minute than the default limit of one token.
    let mut web = WebSettings::defaults_for(console_addr);
    web.api_requests_per_minute = 1_000_000;
    let state = AppState::new(
        http::leptos_options(&site_root, console_addr),
        pool.clone(),
        storage,
        web,
        EVIDENCE_SECRET.clone(),
        keyring(&url).await,
    );
    let asset_version = state.asset_version.as_deref().map(str::to_owned);
    let keyring = state.keyring.clone();
    let console = serve_on(
        console_listener,
        hydration::with_reference_pages(http::router(state)),
    );
    let noop_console = match std::env::var("NOOP_SITE_ROOT") {
        Ok(noop_root) => {
            let listener = bind().await;
            let addr = listener.local_addr().expect("addr");
            let state = AppState::new(
                http::leptos_options(&noop_root, addr),
                pool.clone(),
                Storage::local(&objects).expect("store"),
                WebSettings::defaults_for(addr),
                EVIDENCE_SECRET.clone(),
                keyring.clone(),
            );
            let url = serve_on(
                listener,
                hydration::with_reference_pages(http::router(state)),
            );
            Some(hydration::Site {
                console: url,
                site_root: noop_root,
            })
        }
        Err(_) => None,
    };
    let plain = serve(plain_router(pool.clone(), keyring.clone())).await;
    let (client, session_token) = common::signed_in_client(&console).await;
    let bench = Bench {
        console,
        plain,
        pool,
        client,
        session_token,
        account,
        keyring,
        customers,
        asset_version,
        site_root,
        noop_console,
        objects: objects.clone(),
    };

    // The figures named on the command line (`scripts/bench ingestion audit`), or all of them.
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let wanted = |figure: &str| named.is_empty() || named.iter().any(|name| name == figure);
    report::print_machine();
    println!("Tenant: {customers} customers, {calls} calls, {messages} messages.\n");
    report::print_head();
    if wanted("search") {
        search::measure(&bench).await;
    }
    if wanted("customer_page") {
        customer_page::measure(&bench).await;
    }
    if wanted("erasure") {
        erasure::measure(&bench).await;
    }
    if wanted("hydration") {
        hydration::measure(&bench).await;
    }
    if wanted("static_files") {
        static_files::measure(&bench).await;
    }
    if wanted("audit") {
        audit::measure(&bench).await;
    }
    if wanted("ingestion") {
        ingestion::measure(&bench).await;
    }
    if wanted("export") {
        export::measure(&bench).await;
    }
    if wanted("bulk") {
        bulk::measure(&bench).await;
    }
    if wanted("keys") {
        key_work::measure(&bench).await;
    }
    let _ = std::fs::remove_dir_all(objects);
}

/// The keyring beside the bench's database (KEYRING_DATABASE_URL and KEY_ROOT_FILE, or their defaults).
async fn keyring(data_url: &str) -> Arc<Keyring> {
    let url = keys::keyring_url(
        data_url,
        std::env::var("KEYRING_DATABASE_URL").ok().as_deref(),
    )
    .expect("keyring URL");
    let root = std::env::var_os("KEY_ROOT_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| keys::default_root_file(&url));
    let pool = keys::connect_and_migrate(&url)
        .await
        .expect("keyring database");
    Arc::new(
        Keyring::open(pool, RootFiles::new(root))
            .await
            .expect("keyring"),
    )
}
