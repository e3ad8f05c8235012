//! Bulk erasure from a CSV (`POST /requests/bulk`, the job's server functions and CSVs, `POST /api/v1/bulk-jobs`):
//! a 10,000-row file with every kind of bad row gets the right verdict for every row and erases nothing;
//! confirming erases exactly the dry run's persons, once each, and nobody found only after the dry run; files
//! over the limits are refused whole with nothing stored; a batch over the approval threshold waits for
//! another Admin as one; the API makes and reads the same jobs.

mod common;

use std::collections::{BTreeMap, HashSet};

use common::*;
use customer_data_console::server::authz::ApiScope;
use customer_data_console::server::synthetic::{self, ADMIN_EMAIL, Size, email, row_id};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// One row of a downloaded CSV, by column name.
type Row = BTreeMap<String, String>;

/// A downloaded CSV's rows by their `line`.
fn by_line(text: &str) -> BTreeMap<i64, Row> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("a header row").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("a CSV row");
            let row: Row = headers
                .iter()
                .zip(record.iter())
                .map(|(name, cell)| (name.to_owned(), cell.to_owned()))
                .collect();
            (row["line"].parse().expect("a line number"), row)
        })
        .collect()
}

/// A synthetic tenant of `customers` customers (with calls and messages) beside the demo data, and its Admin
/// signed in.
async fn tenant(pool: PgPool, customers: u64) -> (Console, Client, Uuid) {
    let console = Console::start(pool).await;
    let size = Size {
        customers,
        calls: customers,
        messages: customers,
    };
    let report = synthetic::seed(&console.pool, &console.state.keyring, size, false)
        .await
        .expect("the synthetic tenant");
    let admin = console.signed_in(ADMIN_EMAIL).await;
    (console, admin, report.account_id)
}

/// Erases customer `i` of the tenant as one record, with or without suppressing the person.
async fn erase_customer(admin: &Client, i: u64, suppress: bool) {
    let id = row_id(1, i).to_string();
    let suppress = suppress.to_string();
    let (status, answer) = admin
        .post(
            "/api/requests/create",
            &[
                ("customer_ids", id.as_str()),
                ("confirmation", "DELETE"),
                ("suppress", suppress.as_str()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn erased_ids(pool: &PgPool, account: Uuid) -> HashSet<Uuid> {
    column_for::<Uuid>(
        pool,
        "select id from customers where account_id = $1 and erased_at is not null",
        account,
    )
    .await
    .into_iter()
    .collect()
}

async fn confirm(admin: &Client, job: Uuid, persons: &str) -> (StatusCode, Value) {
    admin
        .post(
            "/api/bulk/confirm",
            &[
                ("job_id", job.to_string().as_str()),
                ("confirmation", "DELETE"),
                ("persons", persons),
            ],
        )
        .await
}

/// Waits (up to two minutes) until no request of `job` is left to run.
async fn wait_for_job(pool: &PgPool, job: Uuid) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let left: i64 = scalar_for(
            pool,
            "select count(*) from erasure_requests
             where bulk_job_id = $1 and state in ('scheduled', 'erasing', 'awaiting_approval')",
            job,
        )
        .await;
        if left == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{left} requests of the job still run"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[sqlx::test]
async fn ten_thousand_rows_get_their_verdicts_and_confirming_erases_exactly_the_dry_runs_persons(
    pool: PgPool,
) {
    let (console, admin, account) = tenant(pool, 2_000).await;
    erase_customer(&admin, 8, false).await;
    erase_customer(&admin, 9, true).await;
    wait_until(
        &console.pool,
        "select count(*) > 0 from suppressions where lifted_at is null",
        "customer 9 suppressed",
    )
    .await;
    let phone_of_13 = "(415) 500-0013";
    let phone_of_15 = "+1 415 500 0015";
    let sf_of_12 = synthetic::salesforce_id_of(12).as_str()[..15].to_owned();
    let wide = vec!["x"; 200].join(",");
    let mut lines: Vec<String> = vec![
        "\u{feff}customer".into(),
        "\"Rivera, Jordan <jordan.rivera@example.com>\"".into(),
        JORDAN.into(),
        "\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"".into(),
        "\"\"".into(),
        wide,
        "not-an-email".into(),
        email(8),
        email(9),
        email(11),
        email(11).to_uppercase(),
        sf_of_12,
        phone_of_13.into(),
        phone_of_15.into(),
        "@SUM(A1)".into(),
        "+1 415 500 0021".into(),
        email(21),
    ];
    let erasable: Vec<u64> = (100..400).filter(|i| !matches!(i % 10, 1 | 5)).collect();
    lines.extend(erasable.iter().map(|i| email(*i)));
    let mut n = 0;
    while lines.len() < 10_000 {
        lines.push(format!("nobody{n}@example.org"));
        n += 1;
    }
    lines.push(email(100));
    let file = lines.join("\r\n") + "\r\n";
    assert_eq!(lines.len(), 10_001, "a header and 10,000 rows");
    let before = erased_ids(&console.pool, account).await;
    let job = admin.upload_bulk_job(file.as_bytes(), true).await;
    assert_eq!(
        erased_ids(&console.pool, account).await,
        before,
        "the dry run erased nothing"
    );
    let dry_run = by_line(
        &admin
            .get_text(&format!("/requests/bulk/{job}/dry-run.csv"))
            .await,
    );
    assert_eq!(dry_run.len(), 10_000);
    let verdict = |line: i64| dry_run[&line]["verdict"].clone();
    let reason = |line: i64| dry_run[&line]["reason"].clone();
    assert_eq!(
        verdict(2),
        "malformed",
        "a quoted cell with a comma is one cell"
    );
    assert_eq!(verdict(3), "not_found", "another account's person");
    assert_eq!(verdict(4), "malformed");
    assert_eq!(reason(4), "The cell starts like a spreadsheet formula.");
    assert_eq!(reason(5), "The row is empty.");
    assert_eq!(reason(6), "The row has 200 cells; the header has 1.");
    assert_eq!(verdict(7), "malformed");
    assert_eq!(verdict(8), "already_erased");
    assert_eq!(verdict(9), "suppressed");
    assert_eq!(verdict(10), "erase");
    assert_eq!(
        dry_run[&10]["records"].matches("; ").count(),
        1,
        "a Lead and a Contact"
    );
    assert_eq!(
        (verdict(11), dry_run[&11]["duplicate_of"].as_str()),
        ("duplicate".into(), "10")
    );
    assert_eq!(verdict(12), "erase", "a 15-character Salesforce ID");
    assert_eq!(dry_run[&12]["identifier_kind"], "salesforce_id");
    assert_eq!(verdict(13), "erase", "a national phone number");
    assert_eq!(dry_run[&13]["identifier_kind"], "phone");
    assert_eq!(
        (verdict(14), dry_run[&14]["duplicate_of"].as_str()),
        ("duplicate".into(), "10"),
        "another identifier of a record of line 10"
    );
    assert_eq!(reason(15), "The cell starts like a spreadsheet formula.");
    assert_eq!(verdict(16), "erase", "the Lead of person 2, by its phone");
    assert_eq!(
        (verdict(17), dry_run[&17]["records"].matches("; ").count()),
        ("erase".into(), 0),
        "person 2's email: the Contact, which line 16 did not take"
    );
    for (offset, i) in erasable.iter().enumerate() {
        let line = 18 + offset as i64;
        assert_eq!(verdict(line), "erase", "line {line}: customer {i}");
        assert!(dry_run[&line]["calls"].parse::<i64>().is_ok());
    }
    assert_eq!(verdict(10_001), "duplicate");
    assert_eq!(dry_run[&10_001]["duplicate_of"], "18");
    let not_found = dry_run
        .values()
        .filter(|row| row["verdict"] == "not_found")
        .count();
    assert_eq!(not_found, 1 + n as usize);
    let persons = dry_run
        .values()
        .filter(|row| row["verdict"] == "erase")
        .count();
    assert_eq!(persons, 5 + erasable.len());
    assert!(
        dry_run.values().all(|row| row
            .values()
            .all(|cell| !cell.starts_with(['=', '@', '+', '-']))),
        "no cell of the dry run starts like a formula"
    );

    let late_found = sqlx::query_scalar::<_, Uuid>(
        "insert into customers (account_id, salesforce_id, object_type, name, email)
         values ($1, '00Q000000000LATEAA', 'Lead', 'Late Comer', 'nobody5@example.org') returning id",
    )
    .bind(account)
    .fetch_one(&console.pool)
    .await
    .expect("a person added after the dry run");
    let late_duplicate = sqlx::query_scalar::<_, Uuid>(
        "insert into customers (account_id, salesforce_id, object_type, name, email)
         values ($1, '003000000000LATEAA', 'Contact', 'Late Duplicate', $2) returning id",
    )
    .bind(account)
    .bind(email(100))
    .fetch_one(&console.pool)
    .await
    .expect("a new record of a person in the dry run");

    let (status, refused) = confirm(&admin, job, "12").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, made) = confirm(&admin, job, &persons.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(made.as_u64(), Some(persons as u64));
    let (status, again) = confirm(&admin, job, &persons.to_string()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    wait_for_job(&console.pool, job).await;

    let mut expected: HashSet<Uuid> = before.clone();
    for row in dry_run.values().filter(|row| row["verdict"] == "erase") {
        let records: Vec<Uuid> = sqlx::query_scalar(
            "select customer_id from erasure_request_records
             where request_id = (select request_id from bulk_job_rows where job_id = $1 and line = $2)",
        )
        .bind(job)
        .bind(row["line"].parse::<i32>().expect("a line"))
        .fetch_all(&console.pool)
        .await
        .expect("the row's records");
        assert!(!records.is_empty());
        expected.extend(records);
    }
    let erased = erased_ids(&console.pool, account).await;
    assert_eq!(
        erased, expected,
        "exactly the dry run's records were erased"
    );
    assert!(
        !erased.contains(&late_found),
        "a person found only after the dry run"
    );
    assert!(
        !erased.contains(&late_duplicate),
        "a record added after the dry run"
    );
    let receipts_per_record: i64 = scalar_for(
        &console.pool,
        "select coalesce(max(n), 0) from (select count(*) as n from erasures where account_id = $1 group by customer_id) e",
        account,
    )
    .await;
    assert_eq!(receipts_per_record, 1, "no record was erased twice");
    let results = by_line(
        &admin
            .get_text(&format!("/requests/bulk/{job}/results.csv"))
            .await,
    );
    let completed = results
        .values()
        .filter(|row| row["state"] == "completed")
        .count();
    assert_eq!(completed, persons);
    assert!(
        results
            .values()
            .filter(|row| row["verdict"] != "erase")
            .all(|row| row["request_id"].is_empty())
    );
    assert_eq!(
        results[&10]["calls_erased"].parse::<i64>().ok(),
        dry_run[&10]["calls"].parse::<i64>().ok()
    );
    let searched: i64 = scalar_for(
        &console.pool,
        "select count(*) from audit_log where account_id = $1 and action = 'customer_searched' and subject is not null",
        account,
    )
    .await;
    assert_eq!(
        searched, 9_992,
        "one search per row read and not a repeated identifier, each as its keyed hash"
    );
    let downloads: i64 = scalar_for(
        &console.pool,
        "select count(*) from audit_log where account_id = $1 and action = 'bulk_job_downloaded'",
        account,
    )
    .await;
    assert_eq!(
        downloads, 2,
        "the dry run's and the results' downloads are in the log"
    );
}

#[sqlx::test]
async fn files_over_the_limits_are_refused_whole_and_nothing_is_stored(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let before = console.snapshot().await;
    let too_big = format!("email\n{}", "a".repeat(5 * 1024 * 1024));
    assert_eq!(
        alex.upload_bulk(too_big.as_bytes(), true).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let far_too_big = vec![b'a'; 6 * 1024 * 1024];
    assert_eq!(
        alex.upload_bulk(&far_too_big, true).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let too_many = format!("email\n{}", "a@example.com\n".repeat(10_001));
    let refused = alex.upload_bulk(too_many.as_bytes(), true).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .expect("a body")
            .contains("10,000 rows")
    );
    for file in [
        b"email\n".as_slice(),
        b"jordan.rivera@example.com\n",
        b"name,company\nJo,Acme\n",
        b"email\n\xff\xfe\n",
        b"",
    ] {
        let status = alex.upload_bulk(file, true).await.status();
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            String::from_utf8_lossy(file)
        );
    }
    console.assert_unchanged(&before, "a refused upload").await;

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(browser_headers(&console.base))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let signed_in = browser
        .post(console.url("/api/auth/login"))
        .form(&[("email", ALEX), ("password", PASSWORD)])
        .send()
        .await
        .expect("a sign-in");
    assert_eq!(signed_in.status(), StatusCode::OK);
    let (content_type, body) = bulk_upload_body(too_many.as_bytes(), true);
    let answer = browser
        .post(console.url("/requests/bulk"))
        .header("content-type", content_type)
        .header("sec-fetch-mode", "navigate")
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        answer.headers()["location"],
        "/requests/bulk?refused=too_many_rows"
    );

    let token = api_token(
        &console,
        ALEX,
        &[ApiScope::RequestsWrite, ApiScope::RequestsRead],
        None,
    )
    .await
    .secret;
    let api = |body: Vec<u8>| {
        bare_client()
            .post(console.url("/api/v1/bulk-jobs"))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    assert_eq!(
        api(vec![b'a'; 6 * 1024 * 1024])
            .await
            .expect("an answer")
            .status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let answer = api(too_many.into_bytes()).await.expect("an answer");
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
    let jobs: i64 = scalar(&console.pool, "select count(*) from bulk_jobs").await;
    assert_eq!(jobs, 0);

    let (content_type, body) = bulk_upload_body(&far_too_big, true);
    let answer = browser
        .post(console.url("/requests/bulk"))
        .header("content-type", content_type)
        .header("sec-fetch-mode", "navigate")
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "a browser's upload over the limit goes back to the form"
    );
    assert_eq!(
        answer.headers()["location"],
        "/requests/bulk?refused=too_large"
    );

    let notes = "n".repeat(300);
    let large: String = std::iter::once("email,notes\n".to_owned())
        .chain((0..10_000).map(|n| format!("nobody{n}@example.org,{notes}\n")))
        .collect();
    assert!(large.len() > 3_000_000 && large.len() < 5 * 1024 * 1024);
    let answer = api(large.clone().into_bytes()).await.expect("an answer");
    assert_eq!(
        answer.status(),
        StatusCode::CREATED,
        "a 3 MB file through the API"
    );
    assert_eq!(
        alex.upload_bulk(large.as_bytes(), true).await.status(),
        StatusCode::CREATED
    );
}

#[sqlx::test]
async fn a_batch_over_the_threshold_waits_for_another_admin_and_is_approved_as_one(pool: PgPool) {
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    console.set_permission(BLAIR, true).await;
    set_policy(&alex, "0", "2", "").await;
    let others: Vec<String> = column(
        &console.pool,
        "select email from customers c join accounts a on a.id = c.account_id
         where a.name like 'Acme%' and email <> 'jordan.rivera@example.com' and erased_at is null
         order by email limit 2",
    )
    .await;
    let file = format!("email\n{JORDAN}\n{}\n{}\n", others[0], others[1]);
    let job = alex.upload_bulk_job(file.as_bytes(), false).await;
    let (status, made) = confirm(&alex, job, "3").await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let waiting: i64 = scalar_for(
        &console.pool,
        "select count(*) from erasure_requests where bulk_job_id = $1 and state = 'awaiting_approval'",
        job,
    )
    .await;
    assert_eq!(waiting, 3, "the whole batch awaits approval");
    let (status, own) = alex
        .post(
            "/api/bulk/decide",
            &[("job_id", job.to_string().as_str()), ("approve", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{own}");
    let blair = console.signed_in(BLAIR).await;
    let one: Uuid = scalar_for(
        &console.pool,
        "select id from erasure_requests where bulk_job_id = $1 limit 1",
        job,
    )
    .await;
    let (status, alone) = blair
        .post(
            "/api/requests/approve",
            &[("request_id", one.to_string().as_str())],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a request of a batch is decided with it: {alone}"
    );
    let page = blair.get_text(&format!("/requests/{one}")).await;
    assert!(
        page.contains("belongs to a bulk job"),
        "the request's page sends to the batch"
    );
    assert!(
        !page.contains(">Approve<"),
        "and offers no approval of its own"
    );
    let (status, decided) = blair
        .post(
            "/api/bulk/decide",
            &[("job_id", job.to_string().as_str()), ("approve", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided.as_u64(), Some(3));
    wait_for_job(&console.pool, job).await;
    let completed: i64 = scalar_for(
        &console.pool,
        "select count(*) from erasure_requests where bulk_job_id = $1 and state = 'completed' and approved_by is not null",
        job,
    )
    .await;
    assert_eq!(completed, 3);
    let approvals: i64 = scalar(
        &console.pool,
        "select count(*) from audit_log where action = 'request_approved'",
    )
    .await;
    assert_eq!(approvals, 3, "one audit entry per request");
    let (status, again) = blair
        .post(
            "/api/bulk/decide",
            &[
                ("job_id", job.to_string().as_str()),
                ("approve", "false"),
                ("reason", "late"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let gina = console.signed_in(GINA).await;
    let (status, _) = gina
        .post("/api/bulk/get", &[("job_id", job.to_string().as_str())])
        .await;
    assert_ne!(
        status,
        StatusCode::OK,
        "another account's Admin never sees the job"
    );
    let page = alex.get_text(&format!("/requests/bulk/{job}")).await;
    assert!(
        page.contains("Progress") && page.contains("Completed"),
        "the job's page shows its progress"
    );
}

#[sqlx::test]
async fn the_api_checks_and_confirms_a_file_and_reads_the_job_back(pool: PgPool) {
    let (console, _alex) = Console::with_alex_managing_customer_data(pool).await;
    let token = api_token(
        &console,
        ALEX,
        &[ApiScope::RequestsWrite, ApiScope::RequestsRead],
        None,
    )
    .await
    .secret;
    let post = |query: &'static str, body: String| {
        bare_client()
            .post(console.url(&format!("/api/v1/bulk-jobs{query}")))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let file = format!("email\n{JORDAN}\nnobody@example.org\n");
    let dry: Value = {
        let answer = post("?source=crm", file.clone()).await.expect("an answer");
        assert_eq!(
            answer.status(),
            StatusCode::CREATED,
            "an unknown parameter is ignored"
        );
        answer.json().await.expect("JSON")
    };
    assert_eq!(dry["persons"], 1);
    assert_eq!(dry["confirmed_at"], Value::Null);
    assert_eq!(dry["verdicts"]["not_found"], 1);
    let checked: Value = bare_client()
        .get(console.url(&format!(
            "/api/v1/bulk-jobs/{}",
            dry["id"].as_str().expect("an id")
        )))
        .bearer_auth(&token)
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(checked["rows"][0]["verdict"], "erase");
    assert_eq!(checked["rows"][1]["verdict"], "not_found");
    let refused = post("?dry_run=maybe", file.clone())
        .await
        .expect("an answer");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        jordans_erased(&console).await,
        0,
        "a dry run erases nothing"
    );
    let made: Value = {
        let answer = post("?dry_run=false", file).await.expect("an answer");
        assert_eq!(answer.status(), StatusCode::CREATED);
        answer.json().await.expect("JSON")
    };
    let job = Uuid::parse_str(made["id"].as_str().expect("an id")).expect("a UUID");
    wait_for_job(&console.pool, job).await;
    assert_eq!(jordans_erased(&console).await, 2);
    let read: Value = bare_client()
        .get(console.url(&format!("/api/v1/bulk-jobs/{job}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(read["progress"]["done"], 1);
    assert_eq!(read["rows"][0]["request_state"], "completed");
    let other = bare_client()
        .get(console.url(&format!("/api/v1/bulk-jobs/{}", Uuid::new_v4())))
        .bearer_auth(&token)
        .send()
        .await
        .expect("an answer");
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

async fn jordans_erased(console: &Console) -> i64 {
    scalar(
        &console.pool,
        "select count(*) from customers where email = 'jordan.rivera@example.com' and erased_at is not null",
    )
    .await
}
