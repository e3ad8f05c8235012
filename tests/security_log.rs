//! The security event log, read back after each event: sign-in succeeded, failed and limited (and a success
//! leaves the failures counted), sign-out, ended sessions, refusals (not allowed, on a page or a server function;
//! not signed in; cross-site), erasure attempts
//! with their outcome, and record views. Every line is JSON on the `security` target and holds no email, name
//! or password. The log is captured through the same layer the binary installs (`security_log::json_layer`);
//! the tests of this file take turns, since the process has one log.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::*;
use customer_data_console::server::security_log;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;

/// The captured log: every line the security layer wrote in this process.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;

    fn make_writer(&'a self) -> CapturedLog {
        self.clone()
    }
}

/// The process's log, installed once, and the lock each test holds while it reads its own events.
fn captured_log() -> &'static (CapturedLog, tokio::sync::Mutex<()>) {
    static LOG: OnceLock<(CapturedLog, tokio::sync::Mutex<()>)> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = CapturedLog::default();
        let subscriber = tracing_subscriber::registry().with(security_log::json_layer(log.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        (log, tokio::sync::Mutex::new(()))
    })
}

/// Reads the events written since the last call, each line parsed as JSON.
struct LogReader {
    log: CapturedLog,
    read: usize,
    forbidden: Vec<&'static str>,
}

impl LogReader {
    /// A reader that starts after everything already written and fails on any line containing one of
    /// `forbidden` (personal data the log must never hold).
    fn new(forbidden: Vec<&'static str>) -> LogReader {
        let log = captured_log().0.clone();
        let read = log.0.lock().expect("log").len();
        LogReader {
            log,
            read,
            forbidden,
        }
    }

    fn take(&mut self) -> Vec<Value> {
        let bytes = self.log.0.lock().expect("log").clone();
        let text = String::from_utf8(bytes[self.read..].to_vec()).expect("UTF-8 log");
        self.read = bytes.len();
        text.lines()
            .map(|line| {
                for secret in &self.forbidden {
                    assert!(
                        !line.to_lowercase().contains(&secret.to_lowercase()),
                        "the log holds {secret:?}: {line}"
                    );
                }
                let event: Value = serde_json::from_str(line).expect("a JSON line");
                assert_eq!(event["target"], "security", "{line}");
                event
            })
            .collect()
    }

    /// The one event of `kind` written since the last read (others may be there too).
    fn one(&mut self, kind: &str) -> Value {
        let events = self.take();
        let matching: Vec<&Value> = events.iter().filter(|e| e["event"] == kind).collect();
        assert_eq!(matching.len(), 1, "one {kind} event in {events:?}");
        matching[0].clone()
    }
}

const PERSONAL: [&str; 6] = [ALEX, CASEY, JORDAN, PASSWORD, "Alex Admin", "Jordan Rivera"];

#[sqlx::test]
async fn sign_ins_their_limit_and_sign_out_are_logged_without_the_email(pool: PgPool) {
    let _turn = captured_log().1.lock().await;
    let mut log = LogReader::new(PERSONAL.to_vec());
    let console = Console::start(pool).await;
    let email_key = console.state.log_key.email_key(ALEX);
    let client = console.anonymous();

    let wrong = client
        .post(
            "/api/auth/login",
            &[("email", "ALEX.admin@acme.example"), ("password", "wrong")],
        )
        .await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    let failed = log.one("sign_in_failed");
    assert_eq!(
        failed["email_key"], email_key,
        "keyed like the limit: lower case"
    );
    assert_eq!(failed["client"], "127.0.0.1");
    assert_eq!(failed["level"], "INFO");
    assert!(failed["timestamp"].is_string());
    assert!(failed.get("user_id").is_none());

    let alex = console.signed_in(ALEX).await;
    let succeeded = log.one("sign_in_succeeded");
    assert_eq!(succeeded["email_key"], email_key);
    assert_eq!(
        succeeded["user_id"],
        console.user_id(ALEX).await.to_string()
    );
    let session = succeeded["session"].as_str().expect("the new session");
    assert_eq!(session.len(), 16);
    assert_eq!(
        console.take_login_failures().await.len(),
        1,
        "the success left the failure before it counted"
    );

    let (status, _) = alex.post("/api/auth/logout", NO_FIELDS).await;
    assert_eq!(status, StatusCode::OK);
    let signed_out = log.one("signed_out");
    assert_eq!(signed_out["session"], session);
    assert_eq!(signed_out["user_id"], succeeded["user_id"]);

    for _ in 0..10 {
        client
            .post(
                "/api/auth/login",
                &[("email", CASEY), ("password", "wrong")],
            )
            .await;
    }
    assert_eq!(log.take().len(), 10);
    let limited = client.sign_in(CASEY).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let event = log.one("sign_in_limited");
    assert_eq!(event["email_key"], console.state.log_key.email_key(CASEY));
}

#[sqlx::test]
async fn refusals_are_logged_with_their_path_and_status(pool: PgPool) {
    let _turn = captured_log().1.lock().await;
    let mut log = LogReader::new(PERSONAL.to_vec());
    let console = Console::start(pool).await;
    let casey = console.client_of(Actor::Agent).await;
    let signed_in = log.one("sign_in_succeeded");

    let (status, _) = casey.search_customers(JORDAN).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let refused = log.one("access_refused");
    assert_eq!(refused["status"], 403);
    assert_eq!(refused["method"], "POST");
    assert_eq!(refused["path"], "/api/customers/search");
    assert_eq!(refused["session"], signed_in["session"]);

    let lead = jordans_lead(&console.pool).await;
    let page = casey.get_status(&format!("/customers/{lead}")).await;
    assert_eq!(page, StatusCode::OK, "the page shows the refusal");
    let refused = log.one("access_refused");
    assert_eq!(refused["path"], format!("/customers/{lead}"));
    assert_eq!(refused["method"], "GET");
    assert_eq!(refused["status"], 403);

    let cross_site = casey
        .post_with_headers(
            "/api/auth/logout",
            &[
                ("origin", "https://attacker.example"),
                ("sec-fetch-site", "cross-site"),
            ],
            NO_FIELDS,
        )
        .await;
    assert_eq!(cross_site, StatusCode::FORBIDDEN);
    let refused = log.one("cross_site_refused");
    assert_eq!(refused["path"], "/api/auth/logout");
    assert_eq!(refused["client"], "127.0.0.1");

    let signed_out = console.anonymous();
    let (status, _) = signed_out.search_users("alex").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let refused = log.one("access_refused");
    assert_eq!(refused["status"], 401);
    assert!(refused.get("session").is_none());
}

#[sqlx::test]
async fn erasures_views_and_ended_sessions_are_logged(pool: PgPool) {
    let _turn = captured_log().1.lock().await;
    let mut log = LogReader::new(PERSONAL.to_vec());
    let (console, alex) = Console::with_alex_managing_customer_data(pool).await;
    let alex_id = console.user_id(ALEX).await.to_string();
    let lead = jordans_lead(&console.pool).await;
    log.take();

    let page = alex.get_status(&format!("/customers/{lead}")).await;
    assert_eq!(page, StatusCode::OK);
    let viewed = log.one("record_viewed");
    assert_eq!(viewed["customer_id"], lead.to_string());
    assert_eq!(viewed["user_id"], alex_id);

    let (status, receipt) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::OK);
    let events = log.take();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds, ["erasure_attempted", "erasure_completed"]);
    assert_eq!(events[0]["customer_id"], lead.to_string());
    assert_eq!(events[1]["erasure_id"], receipt["erasure_id"]);
    assert_eq!(events[1]["user_id"], alex_id);

    let (status, _) = alex.erase(lead).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let events = log.take();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1]["event"], "erasure_refused");
    assert_eq!(events[1]["status"], 409);

    let casey_id: Uuid = console.user_id(CASEY).await;
    console.signed_in(CASEY).await;
    log.take();
    let (status, ended) = alex
        .post(
            "/api/users/end-sessions",
            &[("user_id", &casey_id.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ended["ended"], 1);
    let event = log.one("sessions_ended");
    assert_eq!(event["target_user_id"], casey_id.to_string());
    assert_eq!(event["count"], 1);
    assert_eq!(event["user_id"], alex_id);
}
