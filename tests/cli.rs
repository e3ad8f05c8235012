//! The binary's command line: bad configuration ends with one clear line, `migrate` and `create-user` work.

mod common;

use std::process::{Command, Output};

use common::database_url_of;

use customer_data_console::server::auth::verify_password;
use sqlx::PgPool;

fn run(args: &[&str], database_url: Option<&str>, password: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customer-data-console"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NEW_USER_PASSWORD")
        .env("RUST_LOG", "off");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
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
    assert!(one_line_error(&run(&["serve"], None, None)).contains("DATABASE_URL"));
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
