//! The binary's command line: bad configuration ends with one clear line, `migrate` and `create-user` work, and
//! `create-user` takes the password from the environment only (no flag; the prompt needs a terminal), refuses
//! weak ones, and an unknown account unless told to create it.

mod common;

use std::process::{Command, Output};

use common::{TEST_EVIDENCE_SECRET, database_url_of};

use customer_data_console::server::auth::verify_password;
use customer_data_console::server::security_log::LogKey;
use sqlx::PgPool;

fn run(args: &[&str], database_url: Option<&str>, password: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customer-data-console"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NEW_USER_PASSWORD")
        .env_remove("EVIDENCE_SECRET")
        .env_remove("EVIDENCE_SECRET_FILE")
        .env("RUST_LOG", "off");
    if let Some(url) = database_url {
        let database = url.rsplit_once('/').map_or(url, |(_, database)| database);
        let keys = std::env::temp_dir()
            .join("cdc-cli-test-keys")
            .join(database);
        command
            .env("DATABASE_URL", url)
            .envs(common::keyring_env(url, &keys));
    }
    if let Some(password) = password {
        command.env("NEW_USER_PASSWORD", password);
    }
    command.output().expect("run the binary")
}

fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(
        stderr.lines().count(),
        1,
        "expected one line, got:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn missing_or_bad_configuration_fails_with_one_line() {
    assert!(one_line_error(&run(&["migrate"], None, None)).contains("DATABASE_URL"));
    let no_secret = run(&["serve"], Some("postgres://nobody@127.0.0.1:1/none"), None);
    assert!(one_line_error(&no_secret).contains("EVIDENCE_SECRET_FILE"));
    assert!(
        one_line_error(&run(
            &["serve", "--evidence-secret-file", "/no-such-file"],
            None,
            None
        ))
        .contains("cannot read the evidence secret file")
    );
    assert!(
        one_line_error(&run(&["serve", "--listen", "not-an-address"], None, None))
            .contains("--listen")
    );
    let unreachable = run(
        &["migrate"],
        Some("postgres://nobody@127.0.0.1:1/none"),
        None,
    );
    assert!(one_line_error(&unreachable).contains("cannot connect to the database"));
    assert!(one_line_error(&run(&["no-such-command"], None, None)).contains("no-such-command"));
    let unwritable_log = run(
        &["migrate", "--security-log", "/no-such-folder/security.log"],
        Some("postgres://nobody@127.0.0.1:1/none"),
        None,
    );
    assert!(one_line_error(&unwritable_log).contains("cannot open the security log"));
}

/// The served binary appends its security events to `SECURITY_LOG` as JSON lines, even with the diagnostic log
/// off, and hashes emails under the key it stored in the database.
#[sqlx::test(migrations = false)]
async fn the_server_appends_security_events_to_its_log_file(pool: PgPool) {
    let url = database_url_of(&pool);
    let folder = tempfile::tempdir().expect("temp dir");
    let keyring = common::fresh_keyring_env(&pool, folder.path()).await;
    let seeded = Command::new(env!("CARGO_BIN_EXE_customer-data-console"))
        .arg("seed-demo")
        .env("DATABASE_URL", &url)
        .envs(keyring.clone())
        .env("EVIDENCE_SECRET", TEST_EVIDENCE_SECRET)
        .env_remove("EVIDENCE_SECRET_FILE")
        .env("OBJECT_STORE_DIR", folder.path().join("objects"))
        .env("RUST_LOG", "off")
        .output()
        .expect("seed the demo");
    assert!(seeded.status.success(), "{seeded:?}");
    let log_path = folder.path().join("security.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_customer-data-console"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &url)
        .envs(keyring)
        .env("EVIDENCE_SECRET", TEST_EVIDENCE_SECRET)
        .env_remove("EVIDENCE_SECRET_FILE")
        .env("OBJECT_STORE_DIR", folder.path().join("objects"))
        .env("SECURITY_LOG", &log_path)
        .env("RUST_LOG", "off")
        .spawn()
        .expect("start the console");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while client.get(format!("{base}/login")).send().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the console did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let answer = client
        .post(format!("{base}/api/auth/login"))
        .headers(common::browser_headers(&base))
        .form(&[("email", common::ALEX), ("password", "wrong")])
        .send()
        .await
        .expect("sign-in");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(answer.status(), reqwest::StatusCode::UNAUTHORIZED);
    let log = std::fs::read_to_string(&log_path).expect("the security log");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert_eq!(lines[0]["event"], "sign_in_failed");
    assert!(!log.contains(common::ALEX), "{log}");
    let stored: Vec<u8> = sqlx::query_scalar("select key from security_log_key")
        .fetch_one(&pool)
        .await
        .expect("the stored key");
    let key = LogKey::from_bytes(&stored).expect("32 bytes");
    assert_eq!(lines[0]["email_key"], key.email_key(common::ALEX));
}

#[sqlx::test(migrations = false)]
async fn migrate_then_create_a_first_admin(pool: PgPool) {
    let url = database_url_of(&pool);
    let migrated = run(&["migrate"], Some(&url), None);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let args = [
        "create-user",
        "--account",
        "Initech",
        "--name",
        "Peter Admin",
        "--email",
        "Peter@Initech.example",
        "--salesforce-id",
        "0055e000001AbCd",
        "--create-account",
    ];
    let short = run(&args, Some(&url), Some("short"));
    assert!(one_line_error(&short).contains("12 characters"));
    let created = run(&args, Some(&url), Some("a-long-enough-password"));
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let (role, hash, sf, account): (String, String, Option<String>, String) = sqlx::query_as(
        "select u.role, u.password_hash, u.salesforce_id, a.name from users u join accounts a on a.id = u.account_id
         where lower(u.email) = 'peter@initech.example'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((role.as_str(), account.as_str()), ("admin", "Initech"));
    assert_eq!(
        sf.as_deref().map(str::len),
        Some(18),
        "stored in the 18-character form"
    );
    assert!(verify_password("a-long-enough-password", &hash));
    let again = run(&args, Some(&url), Some("a-long-enough-password"));
    assert!(one_line_error(&again).contains("already exists"));
}

/// Runs `migrate` on the test database; its URL.
fn migrated(pool: &PgPool) -> String {
    let url = database_url_of(pool);
    let migrated = run(&["migrate"], Some(&url), None);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    url
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("the migrated database answers the count")
}

const GOOD_PASSWORD: &str = "orbit-lantern-mosaic-42";

/// Creating Peter Gibbons of Initech, and Initech with him.
const CREATE_PETER: [&str; 8] = [
    "create-user",
    "--account",
    "Initech",
    "--create-account",
    "--name",
    "Peter Gibbons",
    "--email",
    "peter@initech.example",
];

#[sqlx::test(migrations = false)]
async fn create_user_takes_no_password_flag_and_needs_one_from_the_environment_or_a_terminal(
    pool: PgPool,
) {
    let url = migrated(&pool);
    let flagged = [&CREATE_PETER[..], &["--password", GOOD_PASSWORD]].concat();
    assert!(one_line_error(&run(&flagged, Some(&url), Some(GOOD_PASSWORD))).contains("--password"));
    let no_terminal = run(&CREATE_PETER, Some(&url), None);
    assert!(one_line_error(&no_terminal).contains("NEW_USER_PASSWORD"));
    assert_eq!(count(&pool, "select count(*) from accounts").await, 0);
}

#[sqlx::test(migrations = false)]
async fn create_user_refuses_common_personal_patterned_and_overlong_passwords(pool: PgPool) {
    let url = migrated(&pool);
    let overlong = "Vq7#mZ2!pL9x".repeat(86);
    for (password, why) in [
        ("password1234", "well-known"),
        ("P@ssw0rd2024!", "well-known"),
        ("Dragon2024!!", "well-known"),
        ("initech-2024-rocks", "account name"),
        ("Gibbons!9876x", "account name"),
        ("aaaaaaaaaaaaaaaa", "different characters"),
        ("abcdeabcdeabcde", "repeats"),
        ("abcdefghijklmn", "in order"),
        ("qwertyuiopasdf", "in order"),
        (overlong.as_str(), "1024 bytes"),
    ] {
        let refused = one_line_error(&run(&CREATE_PETER, Some(&url), Some(password)));
        assert!(refused.contains(why), "{password}: {refused}");
    }
    assert_eq!(
        count(&pool, "select count(*) from accounts").await,
        0,
        "a refused password creates nothing"
    );
}

#[sqlx::test(migrations = false)]
async fn create_user_refuses_an_unknown_account_unless_told_to_create_it(pool: PgPool) {
    let url = migrated(&pool);
    let user = |email: &'static str| {
        [
            "create-user",
            "--account",
            "Initech",
            "--name",
            "Samir Nagheenanajar",
            "--email",
            email,
        ]
    };
    let unknown = run(
        &user("samir@initech.example"),
        Some(&url),
        Some(GOOD_PASSWORD),
    );
    assert!(one_line_error(&unknown).contains("--create-account"));
    assert_eq!(count(&pool, "select count(*) from accounts").await, 0);

    let creating = [&user("samir@initech.example")[..], &["--create-account"]].concat();
    let created = run(&creating, Some(&url), Some(GOOD_PASSWORD));
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let second = run(
        &user("michael@initech.example"),
        Some(&url),
        Some(GOOD_PASSWORD),
    );
    assert!(
        second.status.success(),
        "an existing account needs no flag: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(count(&pool, "select count(*) from accounts").await, 1);
    assert_eq!(
        count(
            &pool,
            "select count(*) from users u join accounts a on a.id = u.account_id where a.name = 'Initech'"
        )
        .await,
        2
    );
}

/// `migrate` normalizes the phone numbers stored in another spelling with their account's default country, and
/// leaves a number that is not valid without one.
#[sqlx::test(migrations = false)]
async fn migrate_normalizes_stored_phone_numbers(pool: PgPool) {
    let url = database_url_of(&pool);
    assert!(run(&["migrate"], Some(&url), None).status.success());
    sqlx::raw_sql(
        "insert into accounts (id, name, default_country) values ('00000000-0000-0000-0000-000000000001', 'Phones', 'GB');
         insert into customers (account_id, salesforce_id, object_type, name, phone) values
           ('00000000-0000-0000-0000-000000000001', '00Q5e000001AbCdEAA', 'Lead', 'National', '020 7946 0018'),
           ('00000000-0000-0000-0000-000000000001', '00Q5e000001AbCeEAA', 'Lead', 'Not a number', '12')",
    )
    .execute(&pool)
    .await
    .expect("customers");
    let migrated = run(&["migrate"], Some(&url), None);
    assert!(migrated.status.success(), "{migrated:?}");
    let numbers: Vec<(String, Option<String>)> =
        sqlx::query_as("select name, phone_e164 from customers order by name")
            .fetch_all(&pool)
            .await
            .expect("numbers");
    assert_eq!(
        numbers,
        [
            ("National".to_owned(), Some("+442079460018".to_owned())),
            ("Not a number".to_owned(), None),
        ]
    );
}
