//! The bulk figures, through `POST /api/v1/bulk-jobs` with a token acting for the synthetic Admin: the dry run of
//! a 10,000-row file of the tenant's people (every row found through its index, counted, and stored with its
//! verdict), against the limit of 10 s; and the rate at which a confirmed job erases its persons, each a new
//! record with 5 calls and 5 messages, from the confirmation until the last request completes.

use std::time::{Duration, Instant};

use customer_data_console::server::authz::ApiScope;
use customer_data_console::server::db::api_tokens::{self, TokenSpec};
use customer_data_console::server::evidence::audit_log::Actor;
use customer_data_console::server::synthetic;
use uuid::Uuid;

use crate::Bench;
use crate::report::Row;

/// Rows of the dry run's file.
const DRY_RUN_ROWS: u64 = 10_000;
/// The most a dry run of `DRY_RUN_ROWS` may take.
const DRY_RUN_LIMIT: Duration = Duration::from_secs(10);
/// Persons the erasure figure's job erases.
const PERSONS: u64 = 500;

/// Sends `file` as a bulk job with `token`, and answers the job's id and how long the answer took.
async fn post_job(bench: &Bench, token: &str, file: String, dry_run: bool) -> (Uuid, Duration) {
    let started = Instant::now();
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/bulk-jobs?dry_run={dry_run}",
            bench.console
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), 201, "the bulk job is made");
    let job: serde_json::Value = answer.json().await.expect("the job");
    let elapsed = started.elapsed();
    let id = job["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .expect("the job's id");
    (id, elapsed)
}

/// `PERSONS` new records, each with 5 calls and 5 messages, named by a run-specific email: the people the
/// erasure figure erases (the seeded tenant stays as it is).
async fn new_people(bench: &Bench) -> Vec<String> {
    let run = Uuid::new_v4().simple().to_string();
    let emails: Vec<String> = (0..PERSONS)
        .map(|n| format!("bulk-{}-{n}@bench.example", &run[..8]))
        .collect();
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "insert into customers (account_id, salesforce_id, object_type, name, email)
         select $1, '00Q' || substr(md5(e), 1, 15), 'Lead', 'Bulk Person', e from unnest($2::text[]) as e
         returning id",
    )
    .bind(bench.account)
    .bind(&emails)
    .fetch_all(&bench.pool)
    .await
    .expect("the people to erase");
    sqlx::query(
        "insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
         select $1, c, 'inbound', '+14155550100', '+14155559000', now() - make_interval(hours => n), 30
         from unnest($2::uuid[]) as c, generate_series(1, 5) as n",
    )
    .bind(bench.account)
    .bind(&ids)
    .execute(&bench.pool)
    .await
    .expect("their calls");
    sqlx::query(
        "insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
         select $1, c, 'inbound', '+14155550100', '+14155559000', 'hello', now() - make_interval(hours => n)
         from unnest($2::uuid[]) as c, generate_series(1, 5) as n",
    )
    .bind(bench.account)
    .bind(&ids)
    .execute(&bench.pool)
    .await
    .expect("their messages");
    emails
}

pub async fn measure(bench: &Bench) {
    let admin: Uuid = sqlx::query_scalar("select id from users where email = $1")
        .bind(synthetic::ADMIN_EMAIL)
        .fetch_one(&bench.pool)
        .await
        .expect("the synthetic Admin");
    let scopes = [ApiScope::RequestsWrite, ApiScope::RequestsRead];
    let spec = TokenSpec {
        name: "benchmark bulk",
        scopes: &scopes,
        expires_in: Some(time::Duration::hours(1)),
        admin: Some(admin),
    };
    let token = api_tokens::create(&bench.pool, bench.account, &spec, Actor::System)
        .await
        .expect("a token")
        .secret;

    let customers = bench.customers.max(1) as u64;
    let step = (customers / DRY_RUN_ROWS).max(1);
    let rows: Vec<String> = (0..DRY_RUN_ROWS)
        .map(|n| synthetic::email((n * step + 7) % customers))
        .collect();
    let (_, dry_run) = post_job(bench, &token, format!("email\n{}\n", rows.join("\n")), true).await;
    Row {
        figure: &format!(
            "bulk dry run of a {DRY_RUN_ROWS}-row file at {customers} customers (upload to verdicts stored)"
        ),
        console: format!("{:.2} s", dry_run.as_secs_f64()),
        baseline: "-".into(),
        ratio: None,
        limit: "< 10 s",
        met: dry_run < DRY_RUN_LIMIT,
    }
    .print();

    let people = new_people(bench).await;
    let started = Instant::now();
    let (job, _) = post_job(
        bench,
        &token,
        format!("email\n{}\n", people.join("\n")),
        false,
    )
    .await;
    loop {
        let left: i64 = sqlx::query_scalar(
            "select count(*) from erasure_requests where bulk_job_id = $1 and state <> 'completed'",
        )
        .bind(job)
        .fetch_one(&bench.pool)
        .await
        .expect("the job's progress");
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the bulk job did not finish in 10 minutes ({left} left)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    crate::report::reference(
        &format!(
            "bulk erasure of {PERSONS} persons (5 calls + 5 messages each), confirmation to last request completed"
        ),
        format!("{:.0} persons/s ({seconds:.1} s)", PERSONS as f64 / seconds),
    );
}
