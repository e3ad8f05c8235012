//! The /audit page's data over HTTP against a real Postgres: the events newest first, filtered by action, actor
//! and days, paged by seq without gaps or repeats; the CSV export of what a filter shows, read by the `csv`
//! crate, batch after batch, with a name that looks like a formula kept as text, and recorded in the log
//! itself; the chain's status, which follows new rows, notices a changed row at its last check at once, any
//! other changed row at the next full check, and a chain rewritten from the checkpoint on; the erasures per day;
//! and the filter's actions equal to the schema's.

mod common;

use common::*;
use customer_data_console::model::{AuditAction, ChainStatus};
use customer_data_console::server::evidence::audit_log::{self, Action, Actor, Entry};
use customer_data_console::server::http::AUDIT_EXPORT_PATH;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How many exports account `account`'s log records.
async fn exports(console: &Console, account: Uuid) -> i64 {
    console
        .count(
            "select count(*) from audit_log where account_id = $1 and action = 'audit_log_exported'",
            account,
        )
        .await
}

/// One page of the list as `client` asks for it with `form`.
async fn list(client: &Client, form: &[(&str, &str)]) -> Value {
    let (status, page) = client.post("/api/audit/list", form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

/// The seqs and actions of a page.
fn seqs_and_actions(page: &Value) -> Vec<(i64, String)> {
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            (
                event["seq"].as_i64().expect("seq"),
                event["action"].as_str().expect("action").to_owned(),
            )
        })
        .collect()
}

fn day(offset: i64) -> String {
    (OffsetDateTime::now_utc().date() + Duration::days(offset)).to_string()
}

#[sqlx::test]
async fn events_come_newest_first_and_each_filter_narrows_them(pool: PgPool) {
    let (console, alex, account) = console_with_a_trail(pool).await;
    let all = seqs_and_actions(&list(&alex, NO_FIELDS).await);
    let stored: i64 = console
        .count(
            "select count(*) from audit_log where account_id = $1",
            account,
        )
        .await;
    assert_eq!(all.len() as i64, stored.min(50));
    assert!(all.windows(2).all(|pair| pair[0].0 > pair[1].0), "{all:?}");
    for action in ["CustomerSearched", "CustomerViewed", "RequestErased"] {
        assert!(all.iter().any(|(_, a)| a == action), "{action} in {all:?}");
    }

    let searched = seqs_and_actions(&list(&alex, &[("action", "customer_searched")]).await);
    assert!(!searched.is_empty());
    assert!(
        searched.iter().all(|(_, a)| a == "CustomerSearched"),
        "{searched:?}"
    );

    let blair = console.signed_in(BLAIR).await;
    drop(blair);
    let blair_id = console.user_id(BLAIR).await;
    let by_blair = seqs_and_actions(&list(&alex, &[("actor", &format!("user:{blair_id}"))]).await);
    assert_eq!(by_blair.len(), 1, "Blair's sign-in alone: {by_blair:?}");
    assert_eq!(by_blair[0].1, "SignedIn");
    let alex_id = console.user_id(ALEX).await;
    let by_alex = list(&alex, &[("actor", &format!("user:{alex_id}"))]).await;
    let actors: Vec<&str> = by_alex["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["actor"].as_str().unwrap())
        .collect();
    assert!(!actors.is_empty());
    assert!(
        actors.iter().all(|name| *name == "Alex Admin"),
        "{actors:?}"
    );
    assert!(seqs_and_actions(&list(&alex, &[("actor", "anonymous")]).await).is_empty());

    let today = list(&alex, &[("from", &day(0)), ("to", &day(0))]).await;
    assert_eq!(
        seqs_and_actions(&today),
        seqs_and_actions(&list(&alex, NO_FIELDS).await)
    );
    assert!(seqs_and_actions(&list(&alex, &[("from", &day(1))]).await).is_empty());
    assert!(seqs_and_actions(&list(&alex, &[("to", &day(-1))]).await).is_empty());

    for (field, value) in [
        ("action", "dropped_tables"),
        ("actor", "user:not-a-uuid"),
        ("actor", "everyone"),
        ("from", "12/01/2026"),
        ("to", "2026-02-30"),
        ("cursor", "-4"),
        ("cursor", "seq 9"),
        ("to", "9999-12-32"),
        ("from", "1969-12-31"),
    ] {
        let (status, body) = alex.post("/api/audit/list", &[(field, value)]).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {body}"
        );
        assert_no_internal_text(&body);
    }
    let (status, body) = alex
        .post("/api/audit/list", &[("from", &day(0)), ("to", &day(-1))])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("ends before it starts"), "{body}");
}

#[sqlx::test]
async fn pages_follow_the_cursor_without_gaps_or_repeats(pool: PgPool) {
    let (console, alex, account) = console_with_a_trail(pool).await;
    for _ in 0..120 {
        let entry = Entry::new(account, Actor::System, Action::RequestFailed);
        audit_log::append_alone(&console.pool, &entry)
            .await
            .unwrap();
    }
    let head: i64 = console
        .count("select seq from audit_heads where account_id = $1", account)
        .await;
    let mut seen = Vec::new();
    let mut cursor: Option<i64> = None;
    let mut pages = 0;
    loop {
        let older = cursor.map(|seq| seq.to_string()).unwrap_or_default();
        let page = list(&alex, &[("cursor", &older)]).await;
        let events = seqs_and_actions(&page);
        assert!(events.len() <= 50);
        seen.extend(events.iter().map(|(seq, _)| *seq));
        pages += 1;
        match page["older"].as_i64() {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, (1..=head).rev().collect::<Vec<_>>());
    assert_eq!(pages, (head as usize).div_ceil(50));

    let system = list(&alex, &[("actor", "system"), ("action", "request_failed")]).await;
    assert_eq!(seqs_and_actions(&system).len(), 50);
    assert!(system["older"].as_i64().is_some());
}

#[sqlx::test]
async fn the_export_holds_exactly_the_filtered_events_and_is_itself_recorded(pool: PgPool) {
    let (console, alex, account) = console_with_a_trail(pool).await;
    let searched: i64 = console
        .count(
            "select count(*) from audit_log where account_id = $1 and action = 'customer_searched'",
            account,
        )
        .await;
    let response = alex
        .http
        .get(console.url(&format!("{AUDIT_EXPORT_PATH}?action=customer_searched")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"audit-log-"),
        "{headers:?}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    let body = response.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_ref());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "seq");
    assert!(header.contains(&"subject_hmac".to_owned()));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as i64, searched);
    for row in &rows {
        assert_eq!(&row[3], "customer_searched");
        assert_eq!(row[8].len(), 64, "the person's whole keyed hash: {row:?}");
        assert_eq!(row[10].len(), 64, "the row's hash: {row:?}");
    }
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(!text.contains(JORDAN), "no person's email in the export");

    assert_eq!(exports(&console, account).await, 1);
    assert!(matches!(
        audit_log::verify(&console.pool, Some(account))
            .await
            .unwrap(),
        audit_log::Verification::Intact { .. }
    ));
}

#[sqlx::test]
async fn the_export_is_refused_to_whoever_may_not_read_the_log(pool: PgPool) {
    let (console, alex, account) = console_with_a_trail(pool).await;
    let url = console.url(AUDIT_EXPORT_PATH);
    let anonymous = console.anonymous();
    let signed_out = anonymous.http.get(&url).send().await.unwrap();
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    let casey = console.signed_in(CASEY).await;
    let agent = casey.http.get(&url).send().await.unwrap();
    assert_eq!(agent.status(), StatusCode::FORBIDDEN);
    let malformed = alex
        .http
        .get(console.url(&format!("{AUDIT_EXPORT_PATH}?from=yesterday")))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        exports(&console, account).await,
        0,
        "a refused export is not an export"
    );
}

/// The overview's chain status as `client` reads it.
async fn chain_status(client: &Client) -> Value {
    let (status, overview) = client.post("/api/audit/overview", NO_FIELDS).await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    overview["chain"].clone()
}

#[sqlx::test]
async fn the_chain_status_follows_new_rows_and_turns_red_when_a_row_changes(pool: PgPool) {
    let (console, alex, account) = console_with_a_trail(pool).await;
    let head = || async {
        console
            .count("select seq from audit_heads where account_id = $1", account)
            .await
    };
    let first = chain_status(&alex).await;
    assert_eq!(
        first["Verified"]["seq"].as_i64(),
        Some(head().await),
        "{first}"
    );
    assert_eq!(alex.search_customers(JORDAN).await.0, StatusCode::OK);
    let later = chain_status(&alex).await;
    assert_eq!(
        later["Verified"]["seq"].as_i64(),
        Some(head().await),
        "{later}"
    );

    // A change to an old row goes unseen by the check of new rows, and is found by the next full check.
    console
        .run_sql(&format!(
            "alter table audit_log disable trigger audit_log_no_update_or_delete;
             update audit_log set details = '{{\"matches\": 9, \"more\": 0}}'
             where account_id = '{account}' and seq = 2;
             alter table audit_log enable trigger audit_log_no_update_or_delete;"
        ))
        .await;
    assert!(chain_status(&alex).await.get("Verified").is_some());
    audit_log::check_chain_fully(&console.pool, account)
        .await
        .unwrap();
    let broken = chain_status(&alex).await;
    assert_eq!(broken["Broken"]["seq"].as_i64(), Some(2), "{broken}");
    let (status, html) = alex.get("/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Chain broken at #2"),
        "the page shows the break"
    );
    assert!(html.contains("chain-broken"));
}

#[sqlx::test]
async fn a_change_to_the_last_checked_row_is_noticed_at_the_next_look(pool: PgPool) {
    let (console, alex, account) = console_with_a_trail(pool).await;
    let checked = chain_status(&alex).await["Verified"]["seq"]
        .as_i64()
        .expect("verified");
    console
        .run_sql(&format!(
            "alter table audit_log disable trigger audit_log_no_update_or_delete;
             update audit_log set at = at - interval '1 day'
             where account_id = '{account}' and seq = {checked};
             alter table audit_log enable trigger audit_log_no_update_or_delete;"
        ))
        .await;
    let broken = chain_status(&alex).await;
    assert_eq!(broken["Broken"]["seq"].as_i64(), Some(checked), "{broken}");
}

#[sqlx::test]
async fn the_page_shows_the_status_the_chart_with_its_table_and_the_events(pool: PgPool) {
    let (console, alex, account) = console_with_a_trail(pool).await;
    let (status, overview) = alex.post("/api/audit/overview", NO_FIELDS).await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let days = overview["erased_per_day"].as_array().unwrap();
    assert_eq!(days.len(), 90);
    let today = &days[89];
    let (records, calls, messages): (i64, i64, i64) = sqlx::query_as(
        "select count(*), sum(calls_deleted)::bigint, sum(messages_deleted)::bigint
         from erasures where account_id = $1",
    )
    .bind(account)
    .fetch_one(&console.pool)
    .await
    .unwrap();
    assert_eq!(
        (
            today["records"].as_i64(),
            today["calls"].as_i64(),
            today["messages"].as_i64()
        ),
        (Some(records), Some(calls), Some(messages))
    );
    assert!(days[..89].iter().all(|day| day["records"] == 0));

    let (status, html) = alex.get("/audit").await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "Audit log",
        "Chain verified through #",
        "Records, calls and messages erased per day",
        "The chart as a table",
        "Searched customers",
        "Requested an erasure",
        "Export CSV",
    ] {
        assert!(html.contains(shown), "{shown} on the page");
    }
    assert!(!html.contains(JORDAN), "no person's email on the page");
}

#[sqlx::test]
async fn the_actions_the_page_filters_by_are_exactly_those_the_schema_allows(pool: PgPool) {
    let console = Console::start(pool).await;
    let pool = console.pool.clone();
    let accounts: i64 = scalar(&pool, "select count(*) from accounts").await;
    assert!(accounts > 0, "the demo accounts are there");
    let mut allowed: Vec<String> =
        column(&pool, "select action from audit_actions order by action").await;
    allowed.sort_unstable();
    let mut listed: Vec<&str> = AuditAction::ALL.iter().map(|action| action.key()).collect();
    listed.sort_unstable();
    assert_eq!(allowed, listed);
    for action in AuditAction::ALL {
        assert_eq!(AuditAction::from_key(action.key()), Some(action));
    }
    let refused = sqlx::query(
        "insert into audit_log (account_id, seq, at, actor_kind, action, prev_hash, hash)
         select id, 999, now(), 'system', 'dropped_tables', decode(repeat('00', 32), 'hex'),
                decode(repeat('00', 32), 'hex')
         from accounts limit 1",
    )
    .execute(&pool)
    .await;
    assert!(
        refused.is_err(),
        "an action outside audit_actions is refused"
    );
}

/// The rows (after the header) of the export `client` downloads with the filter `query`, read by the `csv` crate.
async fn exported_rows(console: &Console, client: &Client, query: &str) -> Vec<csv::StringRecord> {
    let response = client
        .http
        .get(console.url(&format!("{AUDIT_EXPORT_PATH}?{query}")))
        .send()
        .await
        .expect("the export answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.bytes().await.expect("the export's body");
    csv::Reader::from_reader(body.as_ref())
        .records()
        .map(|row| row.expect("a CSV row"))
        .collect()
}

#[sqlx::test]
async fn the_export_reads_batch_after_batch_without_gap_or_repeat(pool: PgPool) {
    let (console, alex, account) = console_with_a_trail(pool).await;
    let batches = 2 * customer_data_console::server::db::audit::EXPORT_BATCH;
    for _ in 0..batches {
        let entry = Entry::new(account, Actor::System, Action::RequestFailed);
        audit_log::append_alone(&console.pool, &entry)
            .await
            .unwrap();
    }
    let expected: Vec<i64> = column_for(
        &console.pool,
        "select seq from audit_log where account_id = $1 and action = 'request_failed' order by seq desc",
        account,
    )
    .await;
    assert_eq!(
        expected.len(),
        batches,
        "two whole batches, the last one ending the log"
    );
    let seqs: Vec<i64> = exported_rows(&console, &alex, "action=request_failed&actor=system")
        .await
        .iter()
        .map(|row| row[0].parse().unwrap())
        .collect();
    assert_eq!(seqs, expected);
}

#[sqlx::test]
async fn a_name_that_a_spreadsheet_would_run_is_exported_as_text(pool: PgPool) {
    let (console, alex, _) = console_with_a_trail(pool).await;
    let formula = "=HYPERLINK(\"https://attacker.example\",\"x\")";
    sqlx::query("update users set name = $1 where email = $2")
        .bind(formula)
        .bind(BLAIR)
        .execute(&console.pool)
        .await
        .unwrap();
    let blair = console.user_id(BLAIR).await;
    let (status, body) = alex.change_permission(&blair.to_string(), "true").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = exported_rows(&console, &alex, "action=customer_data_permission_granted").await;
    let granted: Vec<&str> = rows.iter().map(|row| &row[5]).collect();
    assert!(
        granted.contains(&format!("'{formula}").as_str()),
        "{granted:?}"
    );
    assert!(
        rows.iter()
            .all(|row| row.iter().all(|cell| !cell.starts_with('=')))
    );
}

#[sqlx::test]
async fn a_chain_rewritten_from_the_checkpoint_on_is_found_by_the_full_check(pool: PgPool) {
    let (console, alex, account) = console_with_a_trail(pool).await;
    let checked = chain_status(&alex).await["Verified"]["seq"]
        .as_i64()
        .expect("verified");
    // The last checked row replaced by another, appended as the console would: the chain is intact in itself.
    console
        .run_sql(&format!(
            "set session_replication_role = replica;
             delete from audit_log where account_id = '{account}' and seq = {checked};
             update audit_heads h set seq = l.seq, hash = l.hash
             from audit_log l where h.account_id = '{account}' and l.account_id = h.account_id
               and l.seq = {checked} - 1;
             set session_replication_role = origin;"
        ))
        .await;
    let entry = Entry::new(account, Actor::System, Action::RequestCancelled);
    audit_log::append_alone(&console.pool, &entry)
        .await
        .unwrap();
    assert!(matches!(
        audit_log::verify(&console.pool, Some(account))
            .await
            .unwrap(),
        audit_log::Verification::Intact { .. }
    ));
    let broken = audit_log::check_chain_fully(&console.pool, account)
        .await
        .unwrap();
    assert!(
        matches!(broken, ChainStatus::Broken { seq, .. } if seq == checked),
        "{broken:?}"
    );
    assert_eq!(
        chain_status(&alex).await["Broken"]["seq"].as_i64(),
        Some(checked)
    );
}
