//! The audit log, over HTTP and SQL against a real Postgres: every security-relevant act the console's endpoints
//! perform lands on its account's hash chain; `verify` passes on a live chain and names the first broken seq
//! after a row is changed, inserted or deleted behind the triggers' back; the triggers refuse UPDATE, DELETE and
//! TRUNCATE; concurrent writers leave one unbroken chain; the old `audit_events` rows become the chain's first
//! rows with the hashes Rust computes; and no demo person's email, phone number or name is in the log.

mod common;

use std::borrow::Cow;
use std::collections::BTreeSet;

use common::*;
use customer_data_console::server::db::MIGRATOR;
use customer_data_console::server::erasure::run_due;
use customer_data_console::server::evidence::audit_log::{
    self, Action, Actor, Entry, Fault, GENESIS_HASH, RowFields, Verification,
};
use customer_data_console::server::evidence::identity::PersonId;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The actions of account `account`'s chain, in seq order.
async fn actions_of(pool: &PgPool, account: Uuid) -> Vec<String> {
    column_for(
        pool,
        "select action from audit_log where account_id = $1 order by seq",
        account,
    )
    .await
}

async fn verify(pool: &PgPool) -> Verification {
    audit_log::verify(pool, None).await.expect("verify")
}

fn assert_broken_at(verification: Verification, expected_seq: i64, expected: Fault) {
    match verification {
        Verification::Broken { seq, fault, .. } => {
            assert_eq!((seq, fault), (expected_seq, expected), "{verification}");
        }
        intact => panic!("expected a break at seq {expected_seq}: {intact}"),
    }
}

/// Acme's account id.
async fn acme(console: &Console) -> Uuid {
    scalar_for(
        &console.pool,
        "select account_id from users where email = $1",
        ALEX,
    )
    .await
}

#[sqlx::test]
async fn verify_passes_on_a_live_chain(pool: PgPool) {
    let (console, _, account) = console_with_a_trail(pool).await;
    let rows: i64 = scalar(&console.pool, "select count(*) from audit_log").await;
    assert!(rows >= 5, "{rows} rows");
    assert_eq!(
        verify(&console.pool).await,
        Verification::Intact {
            accounts: 1,
            rows: rows as u64
        }
    );
    let one = audit_log::verify(&console.pool, Some(account))
        .await
        .unwrap();
    assert!(matches!(one, Verification::Intact { accounts: 1, .. }));
    let seqs: Vec<i64> = column_for(
        &console.pool,
        "select seq from audit_log where account_id = $1 order by seq",
        account,
    )
    .await;
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
}

#[sqlx::test]
async fn a_changed_row_is_named_by_verify(pool: PgPool) {
    let (console, _, account) = console_with_a_trail(pool).await;
    console
        .run_sql(&format!(
            "alter table audit_log disable trigger audit_log_no_update_or_delete;
             update audit_log set details = '{{\"matches\": 0, \"more\": 0}}'
             where account_id = '{account}' and action = 'customer_searched';
             alter table audit_log enable trigger audit_log_no_update_or_delete;"
        ))
        .await;
    let changed: i64 = scalar_for(
        &console.pool,
        "select min(seq) from audit_log where account_id = $1 and action = 'customer_searched'",
        account,
    )
    .await;
    assert_broken_at(verify(&console.pool).await, changed, Fault::HashMismatch);
}

#[sqlx::test]
async fn a_deleted_row_is_named_by_verify(pool: PgPool) {
    let (console, _, account) = console_with_a_trail(pool).await;
    console
        .run_sql(&format!(
            "set session_replication_role = replica;
             delete from audit_log where account_id = '{account}' and seq = 2;
             set session_replication_role = origin;"
        ))
        .await;
    assert_broken_at(
        verify(&console.pool).await,
        2,
        Fault::Missing { next: Some(3) },
    );
}

#[sqlx::test]
async fn a_row_deleted_from_the_end_is_named_by_verify(pool: PgPool) {
    let (console, _, account) = console_with_a_trail(pool).await;
    let last: i64 = scalar_for(
        &console.pool,
        "select seq from audit_heads where account_id = $1",
        account,
    )
    .await;
    console
        .run_sql(&format!(
            "alter table audit_log disable trigger audit_log_no_update_or_delete;
             delete from audit_log where account_id = '{account}' and seq = {last};
             alter table audit_log enable trigger audit_log_no_update_or_delete;"
        ))
        .await;
    assert_broken_at(
        verify(&console.pool).await,
        last,
        Fault::Missing { next: None },
    );
}

#[sqlx::test]
async fn an_inserted_row_is_named_by_verify(pool: PgPool) {
    let (console, _, account) = console_with_a_trail(pool).await;
    let (head_seq, head_hash): (i64, Vec<u8>) =
        sqlx::query_as("select seq, hash from audit_heads where account_id = $1")
            .bind(account)
            .fetch_one(&console.pool)
            .await
            .unwrap();
    let prev: [u8; 32] = head_hash.clone().try_into().unwrap();
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let details = serde_json::json!({});
    let forged = RowFields {
        account_id: account,
        seq: head_seq + 1,
        at,
        actor_kind: "system",
        actor_id: None,
        action: "request_cancelled",
        target_user_id: None,
        customer_id: None,
        request_id: None,
        subject: None,
        details: &details,
    };
    // A well-formed row, hashed as the console would, appended without moving the head.
    let hash = audit_log::row_hash(&prev, &forged);
    sqlx::query(
        "insert into audit_log (account_id, seq, at, actor_kind, action, prev_hash, hash)
         values ($1, $2, $3, 'system', 'request_cancelled', $4, $5)",
    )
    .bind(account)
    .bind(head_seq + 1)
    .bind(at)
    .bind(&head_hash)
    .bind(hash.as_slice())
    .execute(&console.pool)
    .await
    .unwrap();
    assert_broken_at(
        verify(&console.pool).await,
        head_seq + 1,
        Fault::BeyondHead { head_seq },
    );

    // Moving the head too does not help a row whose hash is not its own.
    console
        .run_sql(&format!(
            "alter table audit_log disable trigger audit_log_no_update_or_delete;
             update audit_log set hash = sha256(hash) where account_id = '{account}' and seq = {};
             alter table audit_log enable trigger audit_log_no_update_or_delete;
             update audit_heads h set seq = l.seq, hash = l.hash from audit_log l
             where h.account_id = l.account_id and l.account_id = '{account}' and l.seq = {};",
            head_seq + 1,
            head_seq + 1
        ))
        .await;
    assert_broken_at(
        verify(&console.pool).await,
        head_seq + 1,
        Fault::HashMismatch,
    );
}

#[sqlx::test]
async fn the_log_refuses_update_delete_and_truncate(pool: PgPool) {
    let (console, _, account) = console_with_a_trail(pool).await;
    for statement in [
        format!("update audit_log set action = 'signed_out' where account_id = '{account}'"),
        format!("delete from audit_log where account_id = '{account}' and seq = 1"),
        "truncate audit_log".to_owned(),
        "truncate audit_log cascade".to_owned(),
    ] {
        let refused = sqlx::raw_sql(&statement)
            .execute(&console.pool)
            .await
            .expect_err(&statement);
        assert!(
            refused.to_string().contains("append-only"),
            "{statement}: {refused}"
        );
    }
    assert!(matches!(
        verify(&console.pool).await,
        Verification::Intact { .. }
    ));
}

#[sqlx::test]
async fn twenty_concurrent_writers_leave_one_unbroken_chain(pool: PgPool) {
    let console = Console::start(pool).await;
    let account = acme(&console).await;
    let writers: Vec<_> = (0..20)
        .map(|writer| {
            let pool = console.pool.clone();
            tokio::spawn(async move {
                for n in 0..10 {
                    let entry = Entry::new(account, Actor::System, Action::CustomerViewed)
                        .customer(Uuid::from_u128(writer * 100 + n));
                    audit_log::append_alone(&pool, &entry).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let seqs: Vec<i64> = column_for(
        &console.pool,
        "select seq from audit_log where account_id = $1 order by seq",
        account,
    )
    .await;
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    assert_eq!(
        verify(&console.pool).await,
        Verification::Intact {
            accounts: 1,
            rows: 200
        }
    );
}

#[sqlx::test]
async fn every_listed_act_is_appended_to_the_chain(pool: PgPool) {
    let console = Console::start(pool).await;
    let account = acme(&console).await;
    let alex_id = console.user_id(ALEX).await;
    let blair_id = console.user_id(BLAIR).await;

    let wrong = console
        .anonymous()
        .post(
            "/api/auth/login",
            &[("email", " Alex.Admin@acme.example"), ("password", "wrong")],
        )
        .await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED, "{}", wrong.1);
    let alex = console.signed_in(ALEX).await;
    assert_eq!(alex.change_setting("true").await.0, StatusCode::OK);
    console.set_permission(ALEX, true).await;
    assert_eq!(
        alex.change_permission(&blair_id.to_string(), "true")
            .await
            .0,
        StatusCode::OK
    );
    let blair = console.signed_in(BLAIR).await;
    let other = console.signed_in(BLAIR).await;
    assert_eq!(
        blair.post_status("/api/auth/end-other-sessions", &[]).await,
        StatusCode::OK
    );
    let spare = console.signed_in(CASEY).await;
    assert_eq!(
        alex.post_status(
            "/api/users/end-sessions",
            &[("user_id", &console.user_id(CASEY).await.to_string())]
        )
        .await,
        StatusCode::OK
    );
    drop((other, spare));

    assert_eq!(alex.search_customers(JORDAN).await.0, StatusCode::OK);
    // The client follows the answer to the search's page, whose render runs the saved search.
    alex.saved_search_page("customers", "+1 415 555 0142").await;
    let lead = jordans_lead(&console.pool).await;
    assert_eq!(
        alex.customer_detail(&lead.to_string()).await.0,
        StatusCode::OK
    );

    set_policy(&alex, "0", "2", "").await;
    let rejected = request_id_of(&request_jordan(&alex, &console).await);
    let (status, body) = blair
        .post(
            "/api/requests/reject",
            &[("request_id", &rejected), ("reason", "Not the same person")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cancelled = request_id_of(&request_jordan(&alex, &console).await);
    let (status, body) = alex
        .post("/api/requests/cancel", &[("request_id", &cancelled)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    set_policy(&alex, "1", "", "").await;
    let failed = request_id_of(&request_jordan(&alex, &console).await);
    console.set_permission(ALEX, false).await;
    let due = OffsetDateTime::now_utc() + Duration::hours(2);
    assert_eq!(run_due(&console.pool, Some(due)).await.unwrap().failed, 1);
    console.set_permission(ALEX, true).await;

    set_policy(&alex, "0", "2", "").await;
    let approved = request_id_of(&request_jordan(&alex, &console).await);
    let (status, body) = blair
        .post("/api/requests/approve", &[("request_id", &approved)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["summary"]["state"], "completed", "{body}");

    assert_eq!(
        alex.change_permission(&blair_id.to_string(), "false")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(alex.change_setting("false").await.0, StatusCode::OK);
    assert_eq!(
        alex.post_status("/api/auth/logout", &[]).await,
        StatusCode::OK
    );

    wait_until(
        &console.pool,
        "select exists (select from audit_log where action = 'sign_in_failed')",
        "the failed sign-in is appended",
    )
    .await;
    let actions: BTreeSet<String> = actions_of(&console.pool, account)
        .await
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = [
        "signed_in",
        "sign_in_failed",
        "signed_out",
        "other_sessions_ended",
        "user_sessions_ended",
        "customer_data_setting_enabled",
        "customer_data_setting_disabled",
        "customer_data_permission_granted",
        "customer_data_permission_revoked",
        "erasure_policy_changed",
        "customer_searched",
        "customer_viewed",
        "request_created",
        "request_scheduled",
        "request_awaiting_approval",
        "request_approved",
        "request_rejected",
        "request_cancelled",
        "request_erased",
        "request_failed",
        "suppression_added",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(actions, expected);

    let searched: Vec<Vec<u8>> = column_for(
        &console.pool,
        "select subject from audit_log where account_id = $1 and action = 'customer_searched' order by seq",
        account,
    )
    .await;
    let secret = evidence_secret();
    assert_eq!(
        searched,
        vec![
            secret
                .subject(account, &PersonId::Email(JORDAN))
                .as_bytes()
                .to_vec(),
            secret
                .subject(account, &PersonId::Phone("+14155550142"))
                .as_bytes()
                .to_vec(),
        ]
    );
    let (actor_kind, target, subject): (String, Uuid, Vec<u8>) = sqlx::query_as(
        "select actor_kind, target_user_id, subject from audit_log where action = 'sign_in_failed'",
    )
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!((actor_kind.as_str(), target), ("anonymous", alex_id));
    assert_eq!(
        subject,
        secret.subject(account, &PersonId::Email(ALEX)).as_bytes()
    );
    let (actor_kind, details): (String, String) = sqlx::query_as(
        "select actor_kind, details::text from audit_log where action = 'request_failed'",
    )
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!((actor_kind.as_str(), details.as_str()), ("system", "{}"));
    let erased: String = scalar_for(
        &console.pool,
        "select details::text from audit_log where request_id = $1 and action = 'request_erased'",
        Uuid::parse_str(&approved).unwrap(),
    )
    .await;
    let erased: Value = serde_json::from_str(&erased).unwrap();
    assert_eq!(erased["records"], 2, "{erased}");
    assert!(erased["calls"].as_i64() > Some(0), "{erased}");
    for request in [&rejected, &cancelled, &failed] {
        let created: i64 = scalar_for(
            &console.pool,
            "select count(*) from audit_log where request_id = $1 and action = 'request_created'",
            Uuid::parse_str(request).unwrap(),
        )
        .await;
        assert_eq!(created, 1);
    }
    assert!(matches!(
        verify(&console.pool).await,
        Verification::Intact { .. }
    ));
    assert_no_person_in_the_log(&console).await;
}

/// No demo person's (customer's or user's) email, phone number or name appears anywhere in `audit_log`, read as
/// text (every column, the subject's bytes as text too).
async fn assert_no_person_in_the_log(console: &Console) {
    let log: String = scalar(
        &console.pool,
        "select lower(coalesce(string_agg(t::text || ' ' || encode(coalesce(t.subject, ''), 'escape'), ' '), ''))
         from audit_log t",
    )
    .await;
    assert!(log.len() > 1000, "the log holds rows");
    let persons: Vec<String> = column(
        &console.pool,
        "select lower(v) from (
             select unnest(array[name, email, phone, phone_e164]) as v from customers
             union all select unnest(array[name, email]) from users
         ) p where v is not null and length(v) > 3",
    )
    .await;
    assert!(persons.len() > 20, "{persons:?}");
    for person in &persons {
        assert!(
            !log.contains(person.as_str()),
            "{person} is in the audit log"
        );
        let digits: String = person.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 7 {
            assert!(!log.contains(&digits), "{person} is in the audit log");
        }
    }
}

#[sqlx::test(migrations = false)]
async fn the_old_audit_events_become_the_first_rows_of_each_chain(pool: PgPool) {
    let before_the_log = Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .iter()
                .filter(|m| m.version < 16)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    before_the_log.run(&pool).await.unwrap();
    sqlx::raw_sql(
        "insert into accounts (id, name) values
             ('00000000-0000-0000-0000-00000000000a', 'A'), ('00000000-0000-0000-0000-00000000000b', 'B'),
             ('00000000-0000-0000-0000-00000000000c', 'C');
         insert into users (id, account_id, name, email, role, password_hash) values
             ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-00000000000a', 'A1', 'a1@x.example', 'admin', 'x'),
             ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-00000000000a', 'A2', 'a2@x.example', 'admin', 'x'),
             ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-00000000000b', 'B1', 'b1@x.example', 'admin', 'x');
         insert into audit_events (account_id, actor_id, action, target_user_id, occurred_at) values
             ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a1', 'customer_data_setting_enabled', null, '2026-01-02 03:04:05.123456+00'),
             ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a1', 'customer_data_permission_granted', '00000000-0000-0000-0000-0000000000a2', '2026-01-02 03:04:06+00'),
             ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a2', 'erasure_policy_changed', null, '2026-01-03 00:00:00.5+00'),
             ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000b1', 'other_sessions_ended', '00000000-0000-0000-0000-0000000000b1', '1999-12-31 23:59:59.999999+00');",
    )
    .execute(&pool)
    .await
    .unwrap();
    MIGRATOR.run(&pool).await.unwrap();

    assert_eq!(
        audit_log::verify(&pool, None).await.unwrap(),
        Verification::Intact {
            accounts: 2,
            rows: 4
        }
    );
    let a = Uuid::from_u128(0xa);
    assert_eq!(
        actions_of(&pool, a).await,
        [
            "customer_data_setting_enabled",
            "customer_data_permission_granted",
            "erasure_policy_changed"
        ]
    );
    let heads: Vec<(Uuid, i64)> =
        sqlx::query_as("select account_id, seq from audit_heads order by account_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        heads,
        [(a, 3), (Uuid::from_u128(0xb), 1), (Uuid::from_u128(0xc), 0)]
    );
    let first_hash: Vec<u8> = scalar_for(
        &pool,
        "select prev_hash from audit_log where account_id = $1 and seq = 1",
        a,
    )
    .await;
    assert_eq!(first_hash, GENESIS_HASH);

    // The chains go on from the moved rows, and a new account starts its own.
    let entry = Entry::new(a, Actor::System, Action::RequestFailed);
    audit_log::append_alone(&pool, &entry).await.unwrap();
    sqlx::query("insert into accounts (id, name) values ($1, 'D')")
        .bind(Uuid::from_u128(0xd))
        .execute(&pool)
        .await
        .unwrap();
    let entry = Entry::new(Uuid::from_u128(0xd), Actor::System, Action::RequestFailed);
    let head = audit_log::append_alone(&pool, &entry).await.unwrap();
    assert_eq!(head.seq, 1);
    assert_eq!(
        audit_log::verify(&pool, None).await.unwrap(),
        Verification::Intact {
            accounts: 3,
            rows: 6
        }
    );
}

/// `customer-data-console audit verify [--account ID]` against the test database: its output and exit status.
fn audit_verify(pool: &PgPool, account: Option<Uuid>) -> std::process::Output {
    let mut args = vec!["audit".to_owned(), "verify".to_owned()];
    if let Some(account) = account {
        args.extend(["--account".to_owned(), account.to_string()]);
    }
    std::process::Command::new(env!("CARGO_BIN_EXE_customer-data-console"))
        .args(&args)
        .env("DATABASE_URL", database_url_of(pool))
        .env("RUST_LOG", "off")
        .output()
        .expect("run the binary")
}

#[sqlx::test]
async fn the_audit_verify_command_says_whether_the_chains_hold(pool: PgPool) {
    let (console, _, account) = console_with_a_trail(pool).await;
    let rows: i64 = scalar(&console.pool, "select count(*) from audit_log").await;
    let intact = audit_verify(&console.pool, None);
    let stdout = String::from_utf8_lossy(&intact.stdout);
    assert!(intact.status.success(), "{intact:?}");
    assert!(
        stdout.contains(&format!("{rows} rows verified")),
        "{stdout}"
    );
    assert!(audit_verify(&console.pool, Some(account)).status.success());

    console
        .run_sql(&format!(
            "alter table audit_log disable trigger audit_log_no_update_or_delete;
             update audit_log set at = at + interval '1 second' where account_id = '{account}' and seq = 3;
             alter table audit_log enable trigger audit_log_no_update_or_delete;"
        ))
        .await;
    let broken = audit_verify(&console.pool, Some(account));
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("seq 3: hash mismatch"), "{stderr}");
    assert!(stderr.contains(&account.to_string()), "{stderr}");
}
