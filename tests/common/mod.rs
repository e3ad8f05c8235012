//! Test harness: the real console (router, sessions, server functions) served on a loopback port against the
//! per-test database that `#[sqlx::test]` creates, with the demo data, a private object store folder and a
//! private site folder holding stand-ins for the built wasm, JS and CSS.

#![allow(dead_code)]

use std::net::SocketAddr;

use customer_data_console::server::state::AppState;
use customer_data_console::server::storage::Storage;
use customer_data_console::server::{demo, http};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

pub const PASSWORD: &str = demo::DEMO_PASSWORD;
pub const ALEX: &str = "alex.admin@acme.example";
pub const BLAIR: &str = "blair.admin@acme.example";
pub const CASEY: &str = "casey.agent@acme.example";
pub const GINA: &str = "gina.admin@globex.example";
pub const JORDAN: &str = "jordan.rivera@example.com";

pub struct Console {
    pub base: String,
    pub pool: PgPool,
    pub state: AppState,
    _objects: tempfile::TempDir,
    _site: tempfile::TempDir,
}

/// The name the built files carry (`LEPTOS_OUTPUT_NAME` at build time).
pub const OUTPUT_NAME: &str = "customer-data-console";

/// A site folder like the one `cargo leptos build` writes: `public/`'s files, and stand-ins for the built
/// wasm, JS and CSS under `pkg/`.
fn site_folder() -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("temp dir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).expect("pkg dir");
    for extension in http::PKG_EXTENSIONS {
        std::fs::write(
            pkg.join(format!("{OUTPUT_NAME}.{extension}")),
            format!("built {extension}"),
        )
        .expect("pkg file");
    }
    for file in http::PUBLIC_FILES {
        std::fs::copy(
            format!("{}/public{file}", env!("CARGO_MANIFEST_DIR")),
            site.path().join(&file[1..]),
        )
        .expect("public file");
    }
    site
}

impl Console {
    /// Seeds the demo data and serves the console on a free loopback port.
    pub async fn start(pool: PgPool) -> Console {
        Self::start_with(pool, false).await
    }

    pub async fn start_with(pool: PgPool, secure_cookies: bool) -> Console {
        let objects = tempfile::tempdir().expect("temp dir");
        let storage = Storage::local(objects.path()).expect("object store");
        demo::seed(&pool, &storage).await.expect("demo data");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let site = site_folder();
        let options = http::leptos_options(site.path().to_str().expect("utf-8 path"), addr);
        let state = AppState::new(options, pool.clone(), storage, secure_cookies);
        let app = http::router(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Console {
            base: format!("http://{addr}"),
            pool,
            state,
            _objects: objects,
            _site: site,
        }
    }

    pub fn object_store_dir(&self) -> &std::path::Path {
        self._objects.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client with no session.
    pub fn anonymous(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
            base: self.base.clone(),
        }
    }

    /// A client signed in as `email` with the demo password.
    pub async fn signed_in(&self, email: &str) -> Client {
        let client = self.anonymous();
        let (status, body) = client
            .post(
                "/api/auth/login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "sign-in of {email} failed: {body}");
        client
    }

    pub async fn user_id(&self, email: &str) -> Uuid {
        sqlx::query_scalar("select id from users where lower(email) = lower($1)")
            .bind(email)
            .fetch_one(&self.pool)
            .await
            .expect("user")
    }

    pub async fn set_account_setting(&self, email_of_account_user: &str, enabled: bool) {
        sqlx::query(
            "update accounts set manage_customer_data = $2
             where id = (select account_id from users where lower(email) = lower($1))",
        )
        .bind(email_of_account_user)
        .bind(enabled)
        .execute(&self.pool)
        .await
        .expect("setting");
    }

    pub async fn set_permission(&self, email: &str, enabled: bool) {
        sqlx::query("update users set manage_customer_data = $2 where lower(email) = lower($1)")
            .bind(email)
            .bind(enabled)
            .execute(&self.pool)
            .await
            .expect("permission");
    }

    /// Acme's setting on and Alex holding the permission.
    pub async fn give_alex_customer_data_access(&self) {
        self.set_account_setting(ALEX, true).await;
        self.set_permission(ALEX, true).await;
    }

    /// A console on the demo data in which Alex (Admin) holds Manage Customer Data with the account setting on,
    /// and Alex signed in.
    pub async fn with_alex_managing_customer_data(pool: PgPool) -> (Console, Client) {
        let console = Console::start(pool).await;
        console.give_alex_customer_data_access().await;
        let alex = console.signed_in(ALEX).await;
        (console, alex)
    }

    /// Row counts of every table plus an md5 over their contents: equal snapshots mean nothing changed.
    pub async fn snapshot(&self) -> String {
        let tables = [
            "accounts",
            "users",
            "customers",
            "calls",
            "messages",
            "erasures",
            "object_deletions",
            "audit_events",
        ];
        let mut out = String::new();
        for table in tables {
            let sql = format!(
                "select count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from {table} t"
            );
            let row: String = sqlx::query_scalar(&sql)
                .fetch_one(&self.pool)
                .await
                .expect("snapshot");
            out.push_str(&format!("{table}={row};"));
        }
        out
    }

    pub async fn customer_ids_with_email(&self, email: &str) -> Vec<(Uuid, String)> {
        sqlx::query_as("select id, object_type from customers where lower(email) = lower($1) order by object_type")
            .bind(email)
            .fetch_all(&self.pool)
            .await
            .expect("customers")
    }

    /// The account of customer record `customer`: the prefix of its stored keys is `<kind>/<account>/`.
    pub async fn account_of(&self, customer: Uuid) -> Uuid {
        sqlx::query_scalar("select account_id from customers where id = $1")
            .bind(customer)
            .fetch_one(&self.pool)
            .await
            .expect("customer")
    }

    pub async fn count(&self, sql: &str, id: Uuid) -> i64 {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}

/// Jordan Rivera's two Acme records: (Lead, Contact).
pub async fn jordans(console: &Console) -> (Uuid, Uuid) {
    let records = console.customer_ids_with_email(JORDAN).await;
    assert_eq!(records.len(), 2);
    let contact = records.iter().find(|(_, t)| t == "Contact").unwrap().0;
    let lead = records.iter().find(|(_, t)| t == "Lead").unwrap().0;
    (lead, contact)
}

/// The URL of the database behind a `#[sqlx::test]` pool, for a child process.
pub fn database_url_of(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let server = base
        .rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base);
    format!(
        "{server}/{}",
        pool.connect_options()
            .get_database()
            .expect("database name")
    )
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    base: String,
}

impl Client {
    /// POSTs a form to a path and returns the status and the body as JSON (or as a JSON string when not JSON).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// The status alone of a form POST.
    pub async fn post_status(&self, path: &str, form: &[(&str, &str)]) -> StatusCode {
        self.post(path, form).await.0
    }

    /// Erases a customer record's data, confirmed as the dialog does.
    pub async fn erase(&self, customer: Uuid) -> (StatusCode, Value) {
        let id = customer.to_string();
        self.post(
            "/api/customers/erase",
            &[("customer_id", id.as_str()), ("confirmation", "DELETE")],
        )
        .await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.text().await.expect("body"))
    }
}

pub fn assert_no_internal_text(body: &Value) {
    let text = body.to_string().to_lowercase();
    for leak in [
        "sqlx",
        "syntax error",
        "relation ",
        "column ",
        "panicked",
        "constraint",
        "postgres",
        "stack backtrace",
    ] {
        assert!(
            !text.contains(leak),
            "answer leaks internal text ({leak}): {text}"
        );
    }
}
