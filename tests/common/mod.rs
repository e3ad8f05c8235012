//! Test harness: the real console (router, sessions, server functions) served on a loopback port, by the
//! function that serves it in production (`http::serve_connections`), against the
//! per-test database that `#[sqlx::test]` creates, with the demo data, a private object store folder, a
//! private site folder holding stand-ins for the built wasm, JS and CSS, and a receipt signing key of its own;
//! and what the test files share: a client with a method per endpoint they call, the erasure's form with the
//! confirmation word, one-value queries, and the database snapshot that shows a refused call changed nothing.

#![allow(dead_code)]

pub mod corpus;

use std::net::SocketAddr;
use std::sync::Arc;

use customer_data_console::api::customers::ERASE_CONFIRMATION;
use customer_data_console::server::config::{SignInSettings, WebSettings};
use customer_data_console::server::evidence::identity::EvidenceSecret;
use customer_data_console::server::evidence::receipt_keys::ReceiptKeys;
use customer_data_console::server::http::ConnectionLimits;
use customer_data_console::server::keys::{self, Keyring, root::RootFiles};
use customer_data_console::server::state::AppState;
use customer_data_console::server::storage::Storage;
use customer_data_console::server::{demo, http};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

pub const PASSWORD: &str = demo::DEMO_PASSWORD;
pub const ALEX: &str = "alex.admin@acme.example";
pub const BLAIR: &str = "blair.admin@acme.example";
pub const CASEY: &str = "casey.agent@acme.example";
pub const GINA: &str = "gina.admin@globex.example";
pub const JORDAN: &str = "jordan.rivera@example.com";

/// The audit log's tables, which every allowed act appends to (and no refused one).
pub const AUDIT_TABLES: [&str; 2] = ["audit_log", "audit_heads"];

/// The evidence secret of every console a test serves (in process, or the binary through `EVIDENCE_SECRET`).
pub const TEST_EVIDENCE_SECRET: &str = "the tests' evidence secret, for no deployment";

/// `TEST_EVIDENCE_SECRET`, so that a test can compute the hashes it expects.
pub fn evidence_secret() -> EvidenceSecret {
    EvidenceSecret::from_bytes(TEST_EVIDENCE_SECRET.as_bytes()).expect("secret")
}

pub struct Console {
    pub base: String,
    pub pool: PgPool,
    pub state: AppState,
    _objects: tempfile::TempDir,
    _site: tempfile::TempDir,
    _keys: tempfile::TempDir,
}

/// The name the built files carry (`LEPTOS_OUTPUT_NAME` at build time).
pub const OUTPUT_NAME: &str = "customer-data-console";

/// The content of the stand-in for the built file with `extension`: 11 KB of text, so that its compressed
/// variants are smaller than it and kept.
pub fn stand_in(extension: &str) -> String {
    format!("built {extension}\n").repeat(1000)
}

/// A site folder like the one `cargo leptos build` and `compress-assets` write: `public/`'s files, and
/// stand-ins for the built wasm, JS and CSS under `pkg/`, each with its Brotli and gzip variants.
fn site_folder() -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("temp dir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).expect("pkg dir");
    for extension in http::PKG_EXTENSIONS {
        std::fs::write(
            pkg.join(format!("{OUTPUT_NAME}.{extension}")),
            stand_in(extension),
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
    http::precompress_site(site.path(), OUTPUT_NAME).expect("compressed variants");
    site
}

/// A keyring of its own beside the per-test database: `cdc_test_keyring_` and the end of the test database's
/// name (Postgres cuts names at 63 bytes), made afresh, its root file in `folder`.
pub async fn test_keyring(pool: &PgPool, folder: &std::path::Path) -> Arc<Keyring> {
    let options = (*pool.connect_options()).clone();
    let name = test_keyring_name(pool);
    sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
        .execute(pool)
        .await
        .expect("drop an earlier keyring");
    let keyring_pool = keys::connect_and_migrate_with(options.database(&name))
        .await
        .expect("keyring database");
    Arc::new(
        Keyring::open(keyring_pool, RootFiles::new(folder.join("root.key")))
            .await
            .expect("keyring"),
    )
}

fn test_keyring_name(pool: &PgPool) -> String {
    keyring_name_of(
        pool.connect_options()
            .get_database()
            .expect("a database name"),
    )
}

fn keyring_name_of(database: &str) -> String {
    format!(
        "cdc_test_keyring_{}",
        &database[database.len().saturating_sub(40)..]
    )
}

/// The environment that points the binary, run against `database_url`, at the keyring `test_keyring` makes
/// for that database, with its root file in `folder`.
pub fn keyring_env(database_url: &str, folder: &std::path::Path) -> [(&'static str, String); 2] {
    let (server, database) = database_url.rsplit_once('/').expect("a database URL");
    [
        (
            "KEYRING_DATABASE_URL",
            format!("{server}/{}", keyring_name_of(database)),
        ),
        (
            "KEY_ROOT_FILE",
            folder.join("root.key").display().to_string(),
        ),
    ]
}

/// `keyring_env` for `pool`'s database, the keyring made afresh: one an earlier run left under its name is
/// dropped.
pub async fn fresh_keyring_env(
    pool: &PgPool,
    folder: &std::path::Path,
) -> [(&'static str, String); 2] {
    let name = test_keyring_name(pool);
    sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
        .execute(pool)
        .await
        .expect("drop an earlier keyring");
    keyring_env(&database_url_of(pool), folder)
}

/// The whole stored file `stored` at `key`, read as the export reads it with `opener` (a sealed file opened).
pub fn opened_file(
    opener: &customer_data_console::server::keys::seal::Opener,
    key: &str,
    stored: &[u8],
) -> Result<Vec<u8>, customer_data_console::server::keys::tree::Unopened> {
    let mut opening = opener.file(key);
    let mut plain = opening.push(stored)?;
    plain.extend_from_slice(&opening.finish()?);
    Ok(plain)
}

/// Runs the Postgres client `program` (`psql`, `pg_dump`) against `options`' server with `args`; its output.
pub fn postgres_tool(
    program: &str,
    options: &sqlx::postgres::PgConnectOptions,
    args: &[&str],
) -> Vec<u8> {
    let port = options.get_port().to_string();
    let output = std::process::Command::new(program)
        .args([
            "-h",
            options.get_host(),
            "-p",
            &port,
            "-U",
            options.get_username(),
        ])
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("{program}: {err}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A `pg_dump` (plain SQL, no owners) of `options`' database, as an operator backs it up.
pub fn pg_dump(options: &sqlx::postgres::PgConnectOptions) -> Vec<u8> {
    let database = options.get_database().expect("a database name");
    postgres_tool("pg_dump", options, &["--no-owner", "-d", database])
}

/// Restores `dump` into a new database `database` on `options`' server (dropping one of that name first), as an
/// operator restores a backup.
pub fn restore_as(options: &sqlx::postgres::PgConnectOptions, dump: &[u8], database: &str) {
    let drop = format!("drop database if exists \"{database}\" with (force)");
    postgres_tool("psql", options, &["-d", "postgres", "-c", &drop]);
    let create = format!("create database \"{database}\"");
    postgres_tool("psql", options, &["-d", "postgres", "-c", &create]);
    let file = std::env::temp_dir().join(format!("{database}.sql"));
    std::fs::write(&file, dump).expect("dump written");
    let path = file.to_str().expect("a UTF-8 path");
    postgres_tool(
        "psql",
        options,
        &["-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", path],
    );
    std::fs::remove_file(file).expect("dump removed");
}

impl Console {
    /// Seeds the demo data and serves the console on a free loopback port.
    pub async fn start(pool: PgPool) -> Console {
        Self::start_with(pool, false).await
    }

    /// Like `start`, with the session cookie Secure (as over https) when `secure_cookies` is set.
    pub async fn start_with(pool: PgPool, secure_cookies: bool) -> Console {
        Self::start_configured(pool, |web| web.secure_cookies = secure_cookies).await
    }

    /// Like `start`, with these sign-in settings (per-client limit, password-check queue, trusted proxies).
    pub async fn start_with_sign_in(pool: PgPool, sign_in: SignInSettings) -> Console {
        Self::serve(pool, |_| {}, ConnectionLimits::default(), sign_in).await
    }

    /// Like `start`, with the web settings of a console on its address changed by `configure`.
    pub async fn start_configured(
        pool: PgPool,
        configure: impl FnOnce(&mut WebSettings),
    ) -> Console {
        Self::serve(
            pool,
            configure,
            ConnectionLimits::default(),
            SignInSettings::default(),
        )
        .await
    }

    /// Like `start`, with other limits on connections.
    pub async fn start_limited(pool: PgPool, limits: ConnectionLimits) -> Console {
        Self::serve(pool, |_| {}, limits, SignInSettings::default()).await
    }

    async fn serve(
        pool: PgPool,
        configure: impl FnOnce(&mut WebSettings),
        limits: ConnectionLimits,
        sign_in: SignInSettings,
    ) -> Console {
        let objects = tempfile::tempdir().expect("temp dir");
        let storage = Storage::local(objects.path()).expect("object store");
        let keys = tempfile::tempdir().expect("temp dir");
        let keyring = test_keyring(&pool, keys.path()).await;
        demo::seed(&pool, &storage, &keyring)
            .await
            .expect("demo data");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let site = site_folder();
        let options = http::leptos_options(site.path().to_str().expect("utf-8 path"), addr);
        let mut web = WebSettings::defaults_for(addr);
        configure(&mut web);
        let state = AppState::new(
            options,
            pool.clone(),
            storage,
            web,
            evidence_secret(),
            keyring,
        )
        .with_sign_in(sign_in)
        .with_receipt_keys(ReceiptKeys::generate());
        let app = http::router(state.clone());
        tokio::spawn(http::serve_connections(
            listener,
            app,
            limits,
            std::future::pending(),
        ));
        Console {
            base: format!("http://{addr}"),
            pool,
            state,
            _objects: objects,
            _site: site,
            _keys: keys,
        }
    }

    pub fn object_store_dir(&self) -> &std::path::Path {
        self._objects.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client with no session: it keeps cookies and sends the headers a browser sends with the
    /// console's own requests.
    pub fn anonymous(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .default_headers(browser_headers(&self.base))
                .build()
                .expect("client"),
            base: self.base.clone(),
        }
    }

    /// A client signed in as `email` with the demo password.
    pub async fn signed_in(&self, email: &str) -> Client {
        self.anonymous().signed_in_as(email).await
    }

    /// The token hashes stored in `table` (`sessions` or `known_browsers`) for user `user`.
    pub async fn token_hashes(&self, table: &str, user: Uuid) -> Vec<Vec<u8>> {
        column_for(
            &self.pool,
            &format!("select token_hash from {table} where user_id = $1"),
            user,
        )
        .await
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

    /// Row counts of every table plus an md5 over their contents: equal snapshots mean nothing changed. Sign-in
    /// state is in it too: a refused sign-in legitimately writes a failure, which `take_login_failures` takes
    /// out (and shows) before the comparison.
    pub async fn snapshot(&self) -> String {
        self.snapshot_except(&[]).await
    }

    /// A snapshot of every table but the audit log's (`AUDIT_TABLES`): what an allowed call must leave as it was
    /// when its only change is the audit log entry that records it (a search, a page view).
    pub async fn snapshot_outside_the_audit_log(&self) -> String {
        self.snapshot_except(&AUDIT_TABLES).await
    }

    /// A snapshot of every table but `left_out`, for a call whose own change to those tables is checked apart.
    pub async fn snapshot_except(&self, left_out: &[&str]) -> String {
        let tables = [
            "accounts",
            "users",
            "customers",
            "calls",
            "messages",
            "erasures",
            "erasure_requests",
            "erasure_request_records",
            "object_deletions",
            "residual_check_keys",
            "audit_log",
            "audit_heads",
            "sessions",
            "login_failures",
            "known_browsers",
            "saved_searches",
        ];
        let mut out = String::new();
        for table in tables.into_iter().filter(|t| !left_out.contains(t)) {
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

    /// Deletes the failed sign-ins recorded so far and returns their email keys, oldest first: what a refused
    /// sign-in legitimately wrote, checked by the caller and taken out before comparing snapshots (which also
    /// keeps the rate limit from answering in the password check's place).
    pub async fn take_login_failures(&self) -> Vec<String> {
        column(
            &self.pool,
            "with taken as (delete from login_failures returning email_key, failed_at)
             select email_key from taken order by failed_at, email_key",
        )
        .await
    }

    /// Asserts that the database is as the snapshot `before`; `what` names what must not have changed it.
    pub async fn assert_unchanged(&self, before: &str, what: &str) {
        assert_eq!(self.snapshot().await, before, "{what} changed the database");
    }

    /// Keeps a search of `kind` for `query` by the user `email`, as saving it through the form would, and
    /// returns its id.
    pub async fn saved_search(&self, email: &str, kind: &str, query: &str) -> Uuid {
        sqlx::query_scalar(
            "insert into saved_searches (account_id, user_id, kind, query)
             select account_id, id, $2, $3 from users where lower(email) = lower($1) returning id",
        )
        .bind(email)
        .bind(kind)
        .bind(query)
        .fetch_one(&self.pool)
        .await
        .expect("a saved search")
    }

    pub async fn customer_ids_with_email(&self, email: &str) -> Vec<(Uuid, String)> {
        sqlx::query_as("select id, object_type from customers where lower(email) = lower($1) order by object_type")
            .bind(email)
            .fetch_all(&self.pool)
            .await
            .expect("customers")
    }

    /// A cancelled erasure request of Alex's naming `customer` (of Alex's account), made without erasing anything.
    pub async fn cancelled_request(&self, customer: Uuid) -> Uuid {
        sqlx::query_scalar(
            "with request as (
                 insert into erasure_requests (account_id, requested_by, due_at, state, cancelled_by, cancelled_at)
                 select account_id, id, now() + interval '30 days', 'cancelled', id, now() from users where email = $2
                 returning account_id, id
             ), record as (
                 insert into erasure_request_records (account_id, request_id, customer_id, preview_calls, preview_messages)
                 select account_id, id, $1, 0, 0 from request
             )
             select id from request",
        )
        .bind(customer)
        .bind(ALEX)
        .fetch_one(&self.pool)
        .await
        .expect("a cancelled request")
    }

    /// The account of customer record `customer`: the prefix of its stored keys is `<kind>/<account>/`.
    /// Every call and message value of `customer` (numbers, notes, transcripts, bodies), its sealed values
    /// opened with the console's keyring.
    pub async fn record_texts(&self, customer: Uuid) -> Vec<String> {
        let account = self.account_of(customer).await;
        let opener = self
            .state
            .keyring
            .opener(account, customer)
            .await
            .expect("the keyring answers");
        let mut texts = Vec::new();
        for (table, column) in [
            ("calls", "from_number"),
            ("calls", "to_number"),
            ("calls", "notes"),
            ("calls", "transcript"),
            ("messages", "from_number"),
            ("messages", "to_number"),
            ("messages", "body"),
        ] {
            let rows: Vec<(Uuid, Option<String>, Option<Vec<u8>>)> = sqlx::query_as(&format!(
                "select id, {column}, {column}_sealed from {table} where customer_id = $1"
            ))
            .bind(customer)
            .fetch_all(&self.pool)
            .await
            .expect("values");
            for (row, plain, sealed) in rows {
                let value = opener
                    .value(table, column, row, plain, sealed.as_deref())
                    .expect("a value opens");
                texts.extend(value);
            }
        }
        texts
    }

    pub async fn account_of(&self, customer: Uuid) -> Uuid {
        sqlx::query_scalar("select account_id from customers where id = $1")
            .bind(customer)
            .fetch_one(&self.pool)
            .await
            .expect("customer")
    }

    pub async fn count(&self, sql: &str, id: Uuid) -> i64 {
        scalar_for(&self.pool, sql, id).await
    }

    /// Runs `sql` (one or more statements) on the test database.
    pub async fn run_sql(&self, sql: &str) {
        sqlx::raw_sql(sql)
            .execute(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// How many calls and how many messages a customer record has.
    pub async fn activity(&self, customer: Uuid) -> (i64, i64) {
        (
            self.count(
                "select count(*) from calls where customer_id = $1",
                customer,
            )
            .await,
            self.count(
                "select count(*) from messages where customer_id = $1",
                customer,
            )
            .await,
        )
    }

    /// The storage keys of a customer record's recordings and message media.
    pub async fn stored_keys(&self, customer: Uuid) -> Vec<String> {
        column_for(
            &self.pool,
            "select recording_key from calls where customer_id = $1 and recording_key is not null
             union all select unnest(media_keys) from messages where customer_id = $1",
            customer,
        )
        .await
    }

    /// `clients` sessions of Alex erasing `customer` at once; their answers.
    pub async fn erase_concurrently(
        &self,
        customer: Uuid,
        clients: usize,
    ) -> Vec<(StatusCode, Value)> {
        let mut signed_in = Vec::new();
        for _ in 0..clients {
            signed_in.push(self.signed_in(ALEX).await);
        }
        futures::future::join_all(signed_in.iter().map(|c| c.erase(customer))).await
    }
}

/// Who calls, in the authorization matrices of the endpoints and of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    SignedOut,
    Agent,
    AdminWithoutPermission,
    AdminWithPermissionSettingOff,
    AdminWithAccess,
    AdminOfAnotherAccount,
}

impl Console {
    /// Sets the demo data up for `actor` (Casey, Blair, Alex or Gina, with the grants and settings the actor
    /// stands for) and returns a client signed in as it, which does not follow redirects.
    pub async fn client_of(&self, actor: Actor) -> Client {
        let email = match actor {
            Actor::SignedOut => return self.client_without_redirects(),
            Actor::Agent => {
                self.set_account_setting(ALEX, true).await;
                CASEY
            }
            Actor::AdminWithoutPermission => {
                self.set_account_setting(ALEX, true).await;
                BLAIR
            }
            Actor::AdminWithPermissionSettingOff => {
                self.set_permission(ALEX, true).await;
                ALEX
            }
            Actor::AdminWithAccess => {
                self.give_alex_customer_data_access().await;
                ALEX
            }
            Actor::AdminOfAnotherAccount => {
                self.set_account_setting(GINA, true).await;
                self.set_permission(GINA, true).await;
                GINA
            }
        };
        self.client_without_redirects().signed_in_as(email).await
    }

    /// A client with no session that shows redirects instead of following them, and sends what a browser sends
    /// with the console's own requests (`browser_headers`).
    pub fn client_without_redirects(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .default_headers(browser_headers(&self.base))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: self.base.clone(),
        }
    }
}

/// A value a query selects as its one column.
pub trait Selected:
    for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> + Send + Unpin
{
}
impl<T: for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> + Send + Unpin> Selected for T {}

/// A value bound to a query's `$1`.
pub trait Bound<'q>: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send {}
impl<'q, A: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send> Bound<'q> for A {}

/// The one value `sql` selects.
pub async fn scalar<T: Selected>(pool: &PgPool, sql: &str) -> T {
    let value = sqlx::query_scalar(sql).fetch_one(pool).await;
    value.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The one value `sql` selects with `$1` bound to `arg`.
pub async fn scalar_for<'q, T: Selected>(pool: &PgPool, sql: &'q str, arg: impl Bound<'q>) -> T {
    let value = sqlx::query_scalar(sql).bind(arg).fetch_one(pool).await;
    value.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The one column `sql` selects, every row.
pub async fn column<T: Selected>(pool: &PgPool, sql: &str) -> Vec<T> {
    let values = sqlx::query_scalar(sql).fetch_all(pool).await;
    values.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The one column `sql` selects with `$1` bound to `arg`, every row.
pub async fn column_for<'q, T: Selected>(
    pool: &PgPool,
    sql: &'q str,
    arg: impl Bound<'q>,
) -> Vec<T> {
    let values = sqlx::query_scalar(sql).bind(arg).fetch_all(pool).await;
    values.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// How long a test waits for the database to show the state a race or a crash needs.
pub const SYNC_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// Polls `sql`, which selects one boolean, every 5 ms until it is true; panics with `what` when it is still
/// false after `SYNC_DEADLINE`. Races and crashes synchronize on what the database shows (locks waited for,
/// statements running), never on sleeps.
pub async fn wait_until(pool: &PgPool, sql: &str, what: &str) {
    let deadline = std::time::Instant::now() + SYNC_DEADLINE;
    while !scalar::<bool>(pool, sql).await {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// The backend of this test's database that is running a statement containing `fragment` and waiting for a
/// lock, if one is.
pub async fn lock_waiter(pool: &PgPool, fragment: &str) -> Option<i32> {
    let found = sqlx::query_scalar(
        "select pid from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()
           and strpos(query, $1) > 0
         order by pid limit 1",
    )
    .bind(fragment)
    .fetch_optional(pool)
    .await;
    found.unwrap_or_else(|e| panic!("pg_stat_activity: {e}"))
}

/// Waits until a statement containing `fragment` waits for a lock in this test's database and returns its
/// backend; panics with `what` when none does within `SYNC_DEADLINE`.
pub async fn wait_for_lock_wait(pool: &PgPool, fragment: &str, what: &str) -> i32 {
    let deadline = std::time::Instant::now() + SYNC_DEADLINE;
    loop {
        if let Some(pid) = lock_waiter(pool, fragment).await {
            return pid;
        }
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Asserts that `result` is the refusal that the `calls_refuse_erased` and `messages_refuse_erased` triggers
/// raise for a change to erased record `customer`.
pub fn assert_refused_as_erased<T: std::fmt::Debug>(
    result: Result<T, sqlx::Error>,
    customer: Uuid,
) {
    let error = result.expect_err("a change to an erased record was accepted");
    let database = error
        .as_database_error()
        .unwrap_or_else(|| panic!("not a database error: {error}"))
        .downcast_ref::<sqlx::postgres::PgDatabaseError>();
    assert_eq!(
        (database.code(), database.message(), database.hint()),
        (
            "P0001",
            format!("customer {customer} was erased").as_str(),
            Some("customer_erased")
        )
    );
}

/// The erasure's form for the record `customer_id`, confirmed as the dialog does.
pub fn erase_form(customer_id: &str) -> [(&'static str, &str); 2] {
    [
        ("customer_id", customer_id),
        ("confirmation", ERASE_CONFIRMATION),
    ]
}

/// Jordan Rivera's Acme Lead, read from the pool alone (tests that run the binary have no `Console`).
pub async fn jordans_lead(pool: &PgPool) -> Uuid {
    scalar_for(
        pool,
        "select id from customers where email = $1 and object_type = 'Lead'",
        JORDAN,
    )
    .await
}

/// The headers a browser sends with a request that a page of the console at `base` makes: its origin, and that
/// the request comes from that same origin. The cross-site guard refuses a request with a session cookie
/// and neither.
pub fn browser_headers(base: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("origin", HeaderValue::from_str(base).expect("origin"));
    headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
    headers
}

/// The form of a server function without arguments.
pub const NO_FIELDS: &[(&str, &str)] = &[];

/// A client that keeps no cookies, sends no header of its own and follows no redirect, for requests that
/// must be exactly as written and answers that must be seen as sent.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Signs in as `email` with a client that sends no `Origin` (as a script would) and returns the `Set-Cookie`
/// line of the session cookie the answer set.
pub async fn session_cookie_line(console: &Console, email: &str) -> String {
    let response = bare_client()
        .post(console.url("/api/auth/login"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK, "sign-in of {email}");
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|line| line.to_str().expect("ASCII").to_owned())
        .find(|line| line.contains("cdc_session="))
        .expect("a session cookie")
}

/// The signed-in user's JSON (or `null`) for a request from the console's page that presents `cookie` (a
/// `Cookie` header's value).
pub async fn viewer_presenting(console: &Console, cookie: &str) -> Value {
    bare_client()
        .post(console.url("/api/auth/viewer"))
        .headers(browser_headers(&console.base))
        .header("cookie", cookie)
        .form(NO_FIELDS)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

/// Jordan Rivera's two Acme records: (Lead, Contact).
pub async fn jordans(console: &Console) -> (Uuid, Uuid) {
    let records = console.customer_ids_with_email(JORDAN).await;
    assert_eq!(records.len(), 2);
    let contact = records
        .iter()
        .find(|(_, t)| t == "Contact")
        .expect("one of Jordan's records is a Contact")
        .0;
    let lead = records
        .iter()
        .find(|(_, t)| t == "Lead")
        .expect("one of Jordan's records is a Lead")
        .0;
    (lead, contact)
}

/// Saves the account's erasure policy as an Admin does on /admin (deadline 30 days), and checks the answer.
pub async fn set_policy(admin: &Client, hold: &str, min_records: &str, min_items: &str) {
    let (status, saved) = admin
        .post(
            "/api/settings/erasure-policy",
            &[
                ("hold_hours", hold),
                ("deadline_days", "30"),
                ("approval_min_records", min_records),
                ("approval_min_items", min_items),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["hold_hours"].as_i64(), hold.parse().ok());
}

/// Confirms the erasure of both of Jordan's records as `client`, as the dialog on /customers does; answers the
/// request.
pub async fn request_jordan(client: &Client, console: &Console) -> Value {
    let (lead, contact) = jordans(console).await;
    let ids = format!("{lead},{contact}");
    let (status, request) = client
        .post(
            "/api/requests/create",
            &[
                ("customer_ids", ids.as_str()),
                ("query", JORDAN),
                ("confirmation", ERASE_CONFIRMATION),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{request}");
    request
}

/// The id of the request an answer of `/api/requests/create` names.
pub fn request_id_of(request: &Value) -> String {
    request["request_id"]
        .as_str()
        .expect("a request id")
        .to_owned()
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

    /// The status of a form POST sent with extra request headers (as a browser's `origin` and
    /// `sec-fetch-site`).
    pub async fn post_with_headers(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        form: &(impl serde::Serialize + ?Sized),
    ) -> StatusCode {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request").status()
    }

    /// The status alone of a form POST.
    pub async fn post_status(&self, path: &str, form: &[(&str, &str)]) -> StatusCode {
        self.post(path, form).await.0
    }

    /// This client, signed in as `email` with the demo password (the sign-in must succeed).
    pub async fn signed_in_as(self, email: &str) -> Client {
        let (status, body) = self
            .post(
                "/api/auth/login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "sign-in of {email} failed: {body}");
        self
    }

    /// The status of a GET of page `path`.
    pub async fn get_status(&self, path: &str) -> StatusCode {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
            .status()
    }

    /// The whole answer to signing in as `email` with the demo password, for its headers.
    pub async fn sign_in(&self, email: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/auth/login", self.base))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("request")
    }

    /// Erases a customer record's data, confirmed as the dialog does, and answers the record's receipt when it
    /// was erased (the answer is the request of that one record) or the answer as it is otherwise.
    pub async fn erase(&self, customer: Uuid) -> (StatusCode, Value) {
        let (status, answer) = self
            .post("/api/customers/erase", &erase_form(&customer.to_string()))
            .await;
        match &answer["records"][0]["receipt"] {
            Value::Object(_) if status == StatusCode::OK => {
                (status, answer["records"][0]["receipt"].clone())
            }
            _ => (status, answer),
        }
    }

    /// Searches the account's customer records.
    pub async fn search_customers(&self, query: &str) -> (StatusCode, Value) {
        self.post("/api/customers/search", &[("query", query)])
            .await
    }

    /// Posts a search of `kind` (`customers` or `users`) as the search form does, and returns the path of the
    /// page the answer sends the browser to (`/customers?search=<id>`), whether the client follows redirects
    /// or not.
    pub async fn saved_search_page(&self, kind: &str, query: &str) -> String {
        let response = self
            .http
            .post(format!("{}/api/searches", self.base))
            .form(&[("kind", kind), ("query", query)])
            .send()
            .await
            .expect("request");
        match response.headers().get("location") {
            Some(location) => location.to_str().expect("ASCII").to_owned(),
            None => {
                assert_eq!(response.status(), StatusCode::OK, "the search's page");
                let url = response.url();
                format!("{}?{}", url.path(), url.query().unwrap_or_default())
            }
        }
    }

    /// A customer record with its first page of calls and messages.
    pub async fn customer_detail(&self, customer_id: &str) -> (StatusCode, Value) {
        self.post("/api/customers/detail", &[("customer_id", customer_id)])
            .await
    }

    /// Searches the account's users.
    pub async fn search_users(&self, query: &str) -> (StatusCode, Value) {
        self.post("/api/users/search", &[("query", query)]).await
    }

    /// A user's profile.
    pub async fn profile(&self, user_id: &str) -> (StatusCode, Value) {
        self.post("/api/users/profile", &[("user_id", user_id)])
            .await
    }

    /// Gives (`enabled` "true") or takes a user's Manage Customer Data, `enabled` as the form sends it.
    pub async fn change_permission(&self, user_id: &str, enabled: &str) -> (StatusCode, Value) {
        let form = [("user_id", user_id), ("enabled", enabled)];
        self.post("/api/users/customer-data-permission", &form)
            .await
    }

    /// Turns the account's Manage Customer Data setting on (`enabled` "true") or off.
    pub async fn change_setting(&self, enabled: &str) -> (StatusCode, Value) {
        self.post("/api/settings/customer-data", &[("enabled", enabled)])
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

/// Asserts that an answer has the `expected` status and carries no internal text; `what` names the call.
pub fn assert_answer(answer: &(StatusCode, Value), expected: StatusCode, what: &str) {
    let (status, body) = answer;
    assert_eq!(*status, expected, "{what}: {body}");
    assert_no_internal_text(body);
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

/// One `#[sqlx::test]` per `Actor`, named after it, each calling `$run(pool, actor)` on its own database.
#[macro_export]
macro_rules! one_test_per_actor {
    ($run:ident) => {
        $crate::one_test_per_actor!($run:
            signed_out: SignedOut,
            agent: Agent,
            admin_without_the_permission: AdminWithoutPermission,
            admin_with_the_permission_while_the_setting_is_off: AdminWithPermissionSettingOff,
            admin_with_access: AdminWithAccess,
            admin_of_another_account: AdminOfAnotherAccount,
        );
    };
    ($run:ident: $($test:ident: $actor:ident),* $(,)?) => {$(
        #[sqlx::test]
        async fn $test(pool: sqlx::PgPool) {
            $run(pool, $crate::common::Actor::$actor).await;
        }
    )*};
}

/// A console where Alex, holding Customer Data access, has searched for Jordan, read Jordan's lead and erased
/// it: a few rows on Acme's audit chain. Answers the console, Alex's client and Acme's account id.
pub async fn console_with_a_trail(pool: PgPool) -> (Console, Client, Uuid) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let (status, found) = alex.search_customers(JORDAN).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let lead = jordans_lead(&console.pool).await;
    assert_eq!(
        alex.customer_detail(&lead.to_string()).await.0,
        StatusCode::OK
    );
    let (status, erased) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    let account = console.account_of(lead).await;
    (console, alex, account)
}

/// An API token of `email`'s account with `scopes`, expiring after `expires_in` when given, acting for that
/// user when they are an Admin, made as the command line makes one (audited as the console).
pub async fn api_token(
    console: &Console,
    email: &str,
    scopes: &[customer_data_console::server::authz::ApiScope],
    expires_in: Option<time::Duration>,
) -> customer_data_console::server::db::api_tokens::NewToken {
    use customer_data_console::server::db::{api_tokens, users};
    let account: Uuid = scalar_for(
        &console.pool,
        "select account_id from users where email = $1",
        email,
    )
    .await;
    let admin = users::admin_of_account(&console.pool, account, email)
        .await
        .expect("the user is read");
    let spec = api_tokens::TokenSpec {
        name: "privacy platform",
        scopes,
        expires_in,
        admin,
    };
    api_tokens::create(
        &console.pool,
        account,
        &spec,
        customer_data_console::server::evidence::audit_log::Actor::System,
    )
    .await
    .expect("a token")
}

/// POSTs `body` as JSON to the API path `path` with the token `secret` and, when given, an Idempotency-Key: the
/// status, the headers and the JSON answer (`Null` when it is none).
pub async fn post_api(
    console: &Console,
    path: &str,
    secret: &str,
    key: Option<&str>,
    body: &Value,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = bare_client()
        .post(console.url(path))
        .bearer_auth(secret)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.expect("the console answers");
    let status = response.status();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

/// The multipart body of the bulk upload form (`POST /requests/bulk`) holding `csv` as its file, with the
/// suppression box ticked when `suppress`; answers the content type (with its boundary) and the body.
pub fn bulk_upload_body(csv: &[u8], suppress: bool) -> (String, Vec<u8>) {
    let boundary = "bulk-upload-boundary-7f3a9c";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(csv);
    body.extend_from_slice(b"\r\n");
    if suppress {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"suppress\"\r\n\r\non\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Client {
    /// Uploads `csv` to the bulk form as a script would (not a navigation): the answer as it is.
    pub async fn upload_bulk(&self, csv: &[u8], suppress: bool) -> reqwest::Response {
        let (content_type, body) = bulk_upload_body(csv, suppress);
        self.http
            .post(format!("{}/requests/bulk", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("an answer to the upload")
    }

    /// The job id of an upload that made one (201, its page in `Location`).
    pub async fn upload_bulk_job(&self, csv: &[u8], suppress: bool) -> Uuid {
        let answer = self.upload_bulk(csv, suppress).await;
        let status = answer.status();
        let location = answer
            .headers()
            .get("location")
            .map(|value| value.to_str().expect("ASCII").to_owned());
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            answer.text().await.unwrap_or_default()
        );
        let location = location.expect("the job's page in Location");
        location
            .strip_prefix("/requests/bulk/")
            .and_then(|id| Uuid::parse_str(id).ok())
            .expect("a job id")
    }

    /// The body of GET `path` as text, which must answer 200.
    pub async fn get_text(&self, path: &str) -> String {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), StatusCode::OK, "GET {path}");
        answer.text().await.expect("a body")
    }
}
